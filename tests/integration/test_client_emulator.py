"""The client against the running emulator, over a real loopback socket, faults switched on."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from dbt_braze.braze_rules import BAD_EMAIL, IDENTIFIER_REQUIRED
from dbt_braze.client import BrazeClient, ClientSettings, DeleteItem, Item, Outcome
from dbt_braze.errors import BrazeApiError, BrazeAuthError


def _settings(emulator, **overrides) -> ClientSettings:
    fast = {"backoff_base_s": 0.01, "backoff_max_s": 0.2, "timeout_s": 5.0, "max_retries": 12}
    return ClientSettings(emulator.url, emulator.api_key, **{**fast, **overrides})


def _send(client: BrazeClient, items) -> dict:
    outcomes: dict = {}
    for chunk in client.track(items):
        for outcome in chunk:
            assert outcome.token not in outcomes, "one outcome per object"
            outcomes[outcome.token] = outcome
    return outcomes


def _user_items(n: int, start: int = 0) -> list[Item]:
    return [
        Item("attributes", {"external_id": f"u{i}", "tier": f"t{i % 7}", "n": i}, ("u", i))
        for i in range(start, start + n)
    ]


def _event_items(n: int) -> list[Item]:
    return [
        Item(
            "events",
            {
                "external_id": f"u{i}",
                "name": "order",
                "time": "2025-01-01T00:00:00Z",
                "properties": {"order_id": i},
            },
            ("e", i),
        )
        for i in range(n)
    ]


def test_faults_on_every_valid_object_lands_and_every_invalid_one_is_reported(
    emulator_factory,
):
    emulator = emulator_factory(
        fail_rate=0.15,
        throttle_rate=0.02,
        drop_before_rate=0.05,
        drop_after_rate=0.05,
        latency_ms=3,
        seed=11,
    )
    emulator.set_faults(throttle_next=4)  # a 429 burst right at the start
    users, events = _user_items(1200), _event_items(300)
    invalid = [
        Item("attributes", {"tier": "no identifier"}, ("bad", "noid")),
        Item("attributes", {"external_id": "x1", "email": "not-an-email"}, ("bad", "email")),
        Item("events", {"external_id": "x2", "name": "order"}, ("bad", "notime")),
    ]
    items = users[:600] + invalid + events + users[600:]

    with BrazeClient(_settings(emulator), local_checks=False) as client:
        outcomes = _send(client, items)
        stats = client.stats

    assert len(outcomes) == len(items)
    assert all(outcomes[item.token].delivered for item in users + events)
    assert outcomes[("bad", "noid")].error == IDENTIFIER_REQUIRED
    assert outcomes[("bad", "email")].error == BAD_EMAIL
    assert "'time' is required" in outcomes[("bad", "notime")].error
    assert not any(outcomes[item.token].delivered for item in invalid)

    for item in users:
        stored = emulator.user(item.body["external_id"])
        assert stored is not None and stored["tier"] == item.body["tier"]
        assert stored["n"] == item.body["n"]
    assert emulator.user("x1") is None
    # Events are at-least-once: each lands, and every duplicate is one the client owned up to.
    seen = Counter(e.get("properties", {}).get("order_id") for e in emulator.events())
    assert set(seen) == set(range(300))
    assert sum(seen.values()) - 300 <= stats.ambiguous_resends
    faults = emulator.stats()
    assert faults["faults_injected"] > 0 and faults["drops_after"] > 0
    assert stats.retries > 0 and stats.throttled >= 4 and stats.connection_errors > 0
    assert stats.delivered == 1500 and stats.rejected == 3


def test_limiter_holds_the_configured_rate_without_a_single_429(emulator_factory):
    emulator = emulator_factory(rate_limit=130, rate_window_s=1.0)
    # 16 connections: each emulator answer takes ~45 ms (Nagle vs delayed ACK on its side).
    limit = 100
    client = BrazeClient(
        _settings(
            emulator, rate_limit=limit, rate_window_s=1.0, objects_per_request=1, concurrency=16
        ),
        local_checks=False,
    )
    finished: list[float] = []
    with client:
        for chunk in client.track(_user_items(450)):
            finished += [time.monotonic()] * len(chunk)
        stats = client.stats

    # Count over whole windows, away from the start and the end: a sliding-window limiter
    # starts at most `limit` requests in any window, and a full one starts exactly that many.
    windows = 3
    start = finished[0] + 0.5
    inside = [t for t in finished if start <= t < start + windows]
    assert finished[-1] > start + windows, "sent for long enough to measure"
    rate = len(inside) / windows
    assert 0.9 * limit <= rate <= 1.05 * limit
    assert stats.throttled == 0 and emulator.stats()["rate_limited"] == 0
    assert stats.requests == 450


def test_an_object_too_large_for_braze_is_isolated_and_the_other_74_delivered(emulator_factory):
    emulator = emulator_factory(max_body_bytes=20_000)
    items = _user_items(75)
    big = {"external_id": "big", "tags": [f"{i:03d}" + "x" * 200 for i in range(120)]}
    items[40] = Item("attributes", big, "big")

    with BrazeClient(_settings(emulator), local_checks=False) as client:
        outcomes = _send(client, items)
        stats = client.stats

    assert outcomes["big"].delivered is False
    assert outcomes["big"].error.startswith("HTTP 413")
    delivered = [item for item in items if outcomes[item.token].delivered]
    assert len(delivered) == 74
    assert all(emulator.user(item.body["external_id"]) for item in delivered)
    assert emulator.user("big") is None
    assert stats.splits > 0


def test_legacy_sized_batches_against_a_combined_limit_are_split_not_lost(emulator_factory):
    emulator = emulator_factory()  # combined: at most 75 objects a request
    items = _user_items(75) + _event_items(75)
    with BrazeClient(_settings(emulator, combined_object_limit=False)) as client:
        outcomes = _send(client, items)
        stats = client.stats
    assert all(o.delivered for o in outcomes.values()) and len(outcomes) == 150
    assert emulator.stats()["statuses"]["400"] == 1 and stats.splits == 1
    assert len(emulator.events()) == 75


def test_locally_invalid_objects_are_never_sent(emulator):
    items = [Item("attributes", {"external_id": "null", "a": 1}, "bad"), *_user_items(3)]
    with BrazeClient(_settings(emulator)) as client:
        outcomes = _send(client, items)
        assert client.stats.rejected_locally == 1
    assert outcomes["bad"] == Outcome(
        "bad", False, "provided external_id is blacklisted and disallowed"
    )
    assert emulator.stats()["objects"] == 3


def test_wrong_key_stops_the_run_and_never_shows_the_key(emulator):
    settings = ClientSettings(emulator.url, "wrong-key-4242", backoff_base_s=0.01)
    with BrazeClient(settings) as client, pytest.raises(BrazeAuthError) as info:
        _send(client, _user_items(400))
    text = str(info.value)
    assert "BRAZE_API_KEY" in text and "users.track" in text and "401" in text
    assert "wrong-key-4242" not in text
    assert emulator.users() == []


def test_missing_permission_is_a_403_auth_error(emulator_factory):
    emulator = emulator_factory(permissions=frozenset({"users.delete"}))
    with BrazeClient(_settings(emulator)) as client, pytest.raises(BrazeAuthError) as info:
        _send(client, _user_items(1))
    assert info.value.status == 403


def test_a_wrong_path_is_a_stopping_404(emulator):
    settings = _settings(emulator)
    settings = ClientSettings(emulator.url + "/v1", emulator.api_key)
    with BrazeClient(settings) as client, pytest.raises(BrazeApiError) as info:
        _send(client, _user_items(1))
    assert info.value.status == 404 and "BRAZE_REST_ENDPOINT" in str(info.value)


def test_delete_under_faults_removes_exactly_the_named_users(emulator_factory):
    emulator = emulator_factory(fail_rate=0.2, drop_after_rate=0.1, seed=5)
    with BrazeClient(_settings(emulator)) as client:
        _send(client, _user_items(300))
        doomed = [DeleteItem("external_ids", f"u{i}", i) for i in range(0, 300, 2)]
        outcomes = [o for chunk in client.delete(doomed) for o in chunk]
    assert len(outcomes) == 150 and all(o.delivered for o in outcomes)
    remaining = {u["external_id"] for u in emulator.users()}
    assert remaining == {f"u{i}" for i in range(1, 300, 2)}
