"""Braze's answer to one batch, read into one outcome per object (no network)."""

from __future__ import annotations

from dbt_braze.client.batching import Batch, Entry
from dbt_braze.client.ratelimit import RateHeaders
from dbt_braze.client.responses import read_accepted, read_fatal, resend_safe
from dbt_braze.client.transport import Reply


def _batch(*kinds: str) -> Batch:
    return Batch(
        "/users/track", [Entry(k, b"{}", i, {"external_id": str(i)}) for i, k in enumerate(kinds)]
    )


def _reply(status: int, payload: dict) -> Reply:
    return Reply(status, payload, "", RateHeaders())


def test_indexed_errors_reject_exactly_the_named_objects():
    batch = _batch("attributes", "events", "attributes", "events")
    reading = read_accepted(
        batch,
        _reply(
            201,
            {
                "message": "success",
                "errors": [
                    {"type": "bad email", "input_array": "attributes", "index": 1},
                    {"type": "no time", "input_array": "events", "index": 0},
                ],
            },
        ),
    )
    verdicts = {o.token: (o.delivered, o.error) for o in reading.outcomes}
    assert verdicts == {
        0: (True, None),
        1: (False, "no time"),
        2: (False, "bad email"),
        3: (True, None),
    }
    assert reading.resend == []


def test_bare_string_errors_flag_events_uncertain_and_resend_attributes():
    batch = _batch("attributes", "events", "attributes", "purchases")
    reading = read_accepted(batch, _reply(201, {"errors": ["something was wrong"]}))
    assert {o.token: (o.delivered, o.uncertain) for o in reading.outcomes} == {
        1: (True, True),
        3: (True, True),
    }
    assert all(o.error == "something was wrong" for o in reading.outcomes)
    assert [[e.token for e in b.entries] for b in reading.resend] == [[0, 2]]


def test_bare_string_on_attributes_alone_splits_and_then_pins_the_single_object():
    batch = _batch("attributes", "attributes", "attributes")
    reading = read_accepted(batch, _reply(201, {"errors": ["bad"]}))
    assert reading.outcomes == []
    assert [[e.token for e in b.entries] for b in reading.resend] == [[0], [1, 2]]
    single = read_accepted(reading.resend[0], _reply(201, {"errors": ["bad"]}))
    assert [(o.token, o.delivered, o.error) for o in single.outcomes] == [(0, False, "bad")]


def test_cumulative_attribute_operations_are_not_resent():
    inc = Entry("attributes", b"{}", "inc", {"external_id": "a", "visits": {"inc": 1}})
    plain = Entry("attributes", b"{}", "plain", {"external_id": "b", "tier": "gold"})
    assert not resend_safe(inc) and resend_safe(plain)
    reading = read_accepted(Batch("/users/track", [inc, plain]), _reply(201, {"errors": ["?"]}))
    assert [(o.token, o.uncertain) for o in reading.outcomes] == [("inc", True)]
    assert [e.token for e in reading.resend[0].entries] == ["plain"]


def test_fatal_400_without_indices_is_halved_and_a_single_object_is_rejected():
    reading = read_fatal(_batch(*["attributes"] * 75), _reply(400, {"message": "Bad"}))
    assert [len(b.entries) for b in reading.resend] == [37, 38]
    single = read_fatal(_batch("events"), _reply(400, {"message": "Bad", "errors": ["x"]}))
    assert [(o.delivered, o.error) for o in single.outcomes] == [(False, "HTTP 400: Bad (x)")]


def test_fatal_400_with_indices_rejects_those_and_resends_the_rest_whole():
    batch = _batch("attributes", "attributes", "events")
    reading = read_fatal(
        batch,
        _reply(
            400,
            {
                "message": "Valid data must be provided",
                "errors": [{"type": "need id", "input_array": "attributes", "index": 1}],
            },
        ),
    )
    assert [(o.token, o.error) for o in reading.outcomes] == [(1, "need id")]
    assert [[e.token for e in b.entries] for b in reading.resend] == [[0, 2]]
    everything = read_fatal(
        batch,
        _reply(
            400,
            {
                "errors": [
                    {"type": "a", "input_array": "attributes", "index": 0},
                    {"type": "b", "input_array": "attributes", "index": 1},
                    {"type": "c", "input_array": "events", "index": 0},
                ]
            },
        ),
    )
    assert [o.error for o in everything.outcomes] == ["a", "b", "c"] and not everything.resend


def test_an_index_outside_the_batch_counts_as_unattributed():
    batch = _batch("events")
    reading = read_accepted(
        batch, _reply(201, {"errors": [{"type": "odd", "input_array": "events", "index": 9}]})
    )
    assert [(o.delivered, o.uncertain, o.error) for o in reading.outcomes] == [(True, True, "odd")]
