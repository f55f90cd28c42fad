"""Packing objects into request bodies: counts, sizes, one encoding per object."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import itertools
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbt_braze.client.batching import Batch, Packer, _encoded, delete_entries, track_entries
from dbt_braze.client.outcomes import DeleteItem, Item, Outcome


def _pack(items, *, per_request=75, combined=True, max_body=4 * 1024 * 1024):
    packer = Packer(
        "/users/track", per_request=per_request, combined=combined, max_body_bytes=max_body
    )
    return list(packer.pack(track_entries(items, None)))


def _user(i: int, kind: str = "attributes") -> Item:
    body = {"external_id": f"u{i}", "n": i}
    if kind != "attributes":
        body |= {"name": "e", "time": "2025-01-01T00:00:00Z"}
    return Item(kind, body, token=i)


def test_combined_limit_counts_all_arrays_together():
    items = [_user(i, ("attributes", "events", "purchases")[i % 3]) for i in range(200)]
    batches = _pack(items)
    assert [len(b.entries) for b in batches] == [75, 75, 50]


def test_legacy_limit_counts_each_array_on_its_own():
    items = [_user(i, ("attributes", "events", "purchases")[i % 3]) for i in range(225)]
    batches = _pack(items, combined=False)
    assert len(batches) == 1
    body = json.loads(batches[0].encode())
    assert {k: len(v) for k, v in body.items()} == {
        "attributes": 75,
        "events": 75,
        "purchases": 75,
    }


def test_body_is_the_objects_grouped_by_array_in_order():
    items = [_user(0), _user(1, "events"), _user(2)]
    (batch,) = _pack(items)
    assert json.loads(batch.encode()) == {
        "attributes": [items[0].body, items[2].body],
        "events": [items[1].body],
    }
    assert batch.positions()[("attributes", 1)].token == 2


def test_body_size_limit_is_exact():
    items = [Item("attributes", {"external_id": f"u{i}", "pad": "x" * 90}, i) for i in range(50)]
    limit = 1000
    batches = _pack(items, max_body=limit)
    assert len(batches) > 1
    for batch in batches:
        assert len(batch.encode()) <= limit
    # A batch is closed only when the next object would not fit.
    for batch, following in itertools.pairwise(batches):
        grown = Batch(batch.path, [*batch.entries, following.entries[0]])
        assert len(grown.encode()) > limit


def test_object_too_large_alone_is_rejected_and_never_packed():
    big = Item("attributes", {"external_id": "big", "pad": "x" * 5000}, "big")
    pieces = _pack([_user(1), big, _user(2)], max_body=1000)
    rejected = [p for p in pieces if isinstance(p, Outcome)]
    assert len(rejected) == 1 and rejected[0].token == "big" and not rejected[0].delivered
    assert "over the request body limit of 1,000 bytes" in rejected[0].error
    packed = [e.token for p in pieces if isinstance(p, Batch) for e in p.entries]
    assert packed == [1, 2]


def test_nan_and_unknown_kind_are_rejected_locally():
    items = [
        Item("attributes", {"external_id": "a", "x": float("nan")}, "nan"),
        Item("profiles", {"external_id": "b"}, "kind"),
        Item("attributes", {"external_id": "c", "x": object()}, "obj"),
    ]
    pieces = _pack(items)
    reasons = {p.token: p.error for p in pieces}
    assert "NaN" in reasons["nan"]
    assert "unknown object kind 'profiles'" in reasons["kind"]
    assert "cannot be written as JSON" in reasons["obj"]


def test_validator_rejects_before_encoding():
    seen = []

    def validate(kind, body):
        seen.append(kind)
        return "bad" if body.get("bad") else None

    pieces = list(
        Packer("/p", per_request=75, combined=True, max_body_bytes=10**6).pack(
            track_entries([Item("attributes", {"bad": 1}, 1), _user(2)], validate)
        )
    )
    assert pieces[0] == Outcome(1, False, "bad")
    assert [e.token for e in pieces[1].entries] == [2]
    assert seen == ["attributes", "attributes"]


def test_delete_batches_hold_one_identifier_type_and_at_most_the_limit():
    items = [DeleteItem("external_ids", f"u{i}", i) for i in range(120)]
    items.insert(60, DeleteItem("user_aliases", {"alias_name": "n", "alias_label": "l"}, "a"))
    packer = Packer(
        "/users/delete",
        per_request=50,
        combined=True,
        max_body_bytes=10**6,
        one_array_per_request=True,
    )
    batches = list(packer.pack(delete_entries(items)))
    bodies = [json.loads(b.encode()) for b in batches]
    assert [list(b) for b in bodies] == [["external_ids"]] * 2 + [["user_aliases"]] + [
        ["external_ids"]
    ] * 2
    assert [len(next(iter(b.values()))) for b in bodies] == [50, 10, 1, 50, 10]
    assert bodies[2] == {"user_aliases": [{"alias_name": "n", "alias_label": "l"}]}


def test_halves_keep_every_entry_once():
    (batch,) = _pack([_user(i) for i in range(75)])
    left, right = batch.halves()
    assert [e.token for e in left.entries + right.entries] == list(range(75))
    assert left.entries and right.entries


_bodies = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.one_of(st.integers(), st.text(max_size=300), st.booleans(), st.none()),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["attributes", "events", "purchases"]), _bodies), max_size=300
    ),
    st.integers(1, 80),
    st.booleans(),
    st.integers(200, 5000),
)
def test_every_object_ends_in_exactly_one_batch_or_rejection(raw, per_request, combined, limit):
    items = [Item(kind, body, token=i) for i, (kind, body) in enumerate(raw)]
    pieces = _pack(items, per_request=per_request, combined=combined, max_body=limit)
    tokens = []
    for piece in pieces:
        if isinstance(piece, Outcome):
            tokens.append(piece.token)
            continue
        body = piece.encode()
        assert len(body) <= limit
        decoded = json.loads(body)
        counts = [len(v) for v in decoded.values()]
        assert (sum(counts) if combined else max(counts)) <= per_request
        tokens += [e.token for e in piece.entries]
        for (array, index), entry in piece.positions().items():
            assert decoded[array][index] == items[entry.token].body
    assert sorted(tokens) == list(range(len(items)))


def _reference(value):
    """What the stdlib encoder alone made of a value before orjson: (decoded, problem)."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return json.loads(text.encode()), None
    except ValueError as exc:
        if "Out of range float" in str(exc):
            return None, "object holds NaN or Infinity, which JSON (and Braze) cannot carry"
        return None, f"object cannot be written as JSON: {exc}"
    except TypeError as exc:
        return None, f"object cannot be written as JSON: {exc}"


def _encoded_meaning(value):
    data, problem = _encoded(value)
    return (None if problem else json.loads(data)), problem


class _Colour(enum.Enum):
    RED = 1


class _Level(enum.IntEnum):
    HIGH = 3


_circular: list = []
_circular.append(_circular)


@pytest.mark.parametrize(
    "value",
    [
        {"x": float("nan")},
        {"x": [1, {"y": float("inf")}]},
        {"x": (float("-inf"),)},
        {"when": dt.datetime(2024, 5, 1, 10, 0)},
        {"day": dt.date(2024, 5, 1)},
        {"at": dt.time(10, 0)},
        {"n": decimal.Decimal("1.5")},
        {"id": uuid.UUID(int=1)},
        {"colour": _Colour.RED},
        {"level": _Level.HIGH},
        {"set": {1, 2}},
        {"raw": b"bytes"},
        {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
        {"big": 2**70, "small": -(2**64)},
        {"lone": "\ud800"},
        {"name": "Zoë ✓ 名前", "ctl": "a\nb\t\x00\x1f\x7f\u2028", "quote": '"\\/'},
        {"floats": [0.1, 1e16, 1e-7, -0.0, 5.0, 1.7976931348623157e308, 5e-324]},
        {"deep": [[[[[[[[[[[[[[[[[[[[{"a": ()}]]]]]]]]]]]]]]]]]]]]},
        {"loop": _circular},
    ],
)
def test_encoding_means_and_refuses_what_the_stdlib_encoder_did(value):
    assert _encoded_meaning(value) == _reference(value)


_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # NaN and both infinities included
        st.text(),
        st.decimals(allow_nan=False, places=2),
        st.dates(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_any_value_is_sent_or_refused_exactly_as_by_the_stdlib_encoder(value):
    # NaN never equals itself, and a refused value decodes to None: compare the text of both.
    assert repr(_encoded_meaning(value)) == repr(_reference(value))
