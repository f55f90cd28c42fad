"""Auth, rate limiting, injected faults, delete, bulk and the control endpoints, over HTTP."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest
import requests

from dbt_braze.emulator import Emulator
from tests.fixtures.emulator import expected_stats

AUTH = {"Authorization": "Bearer test-key-123456"}
ONE = {"attributes": [{"external_id": "u", "a": 1}]}
RATE_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


def post(emu: Emulator, path: str, body: Any, headers: dict[str, str] = AUTH) -> requests.Response:
    return requests.post(f"{emu.url}{path}", json=body, headers=headers, timeout=10)


def lower_headers(r: requests.Response) -> set[str]:
    return {k for k in r.raw.headers if k.startswith("x-ratelimit")}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": 'Bearer "test-key-123456"'},
        {"Authorization": "test-key-123456"},
    ],
)
def test_bad_or_missing_key_is_401_and_writes_nothing(
    emulator: Emulator, headers: dict[str, str]
) -> None:
    r = post(emulator, "/users/track", ONE, headers)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert emulator.users() == []


def test_key_without_the_permission_is_403(emulator_factory: Any) -> None:
    emu = emulator_factory(permissions=frozenset({"users.track"}))
    assert post(emu, "/users/track", {"attributes": [{"external_id": "kept", "a": 1}]}).ok
    r = post(emu, "/users/delete", {"external_ids": ["kept"]})
    assert (r.status_code, r.json()) == (403, {"message": "Access Denied"})
    bulk = post(emu, "/users/track/bulk", {"attributes": [{"external_id": "bulk", "a": 1}]})
    assert (bulk.status_code, bulk.json()) == (403, {"message": "Access Denied"})
    # Neither refused request touched the store: "kept" survives, "bulk" was never created.
    assert emulator_user_ids(emu) == ["kept"] and emu.user("kept")["a"] == 1  # type: ignore[index]
    expected = expected_stats(
        {"201": 1, "403": 2}, requests=3, objects=1, data_points=1, users_created=1, users=1
    )
    assert emu.stats() == expected
    assert post(emu, "/users/track", ONE).status_code == 201
    assert emulator_user_ids(emu) == ["kept", "u"]


def test_unknown_route_is_404(emulator: Emulator) -> None:
    r = post(emulator, "/users/export/ids", {})
    assert r.status_code == 404
    assert r.json() == {"message": "Not Found"}
    r = post(emulator, "/users/track/extra", ONE)
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    assert emulator.users() == []
    # A wrong path is answered before routing: not counted as a Braze request.
    expected = expected_stats({"404": 2})
    assert emulator.stats() == expected


def test_every_answer_carries_lower_case_rate_headers(emulator_factory: Any) -> None:
    emu = emulator_factory(rate_limit=5, rate_window_s=60)
    r = post(emu, "/users/track", ONE)
    assert lower_headers(r) == RATE_HEADERS
    assert (r.headers["x-ratelimit-limit"], r.headers["x-ratelimit-remaining"]) == ("5", "4")
    assert 0 < int(r.headers["x-ratelimit-reset"]) <= 60  # new mode: seconds left
    assert lower_headers(post(emu, "/users/track", {})) == RATE_HEADERS  # a 400 too


def test_past_the_limit_is_429_with_retry_after(emulator_factory: Any) -> None:
    emu = emulator_factory(rate_limit=3, rate_window_s=60)
    statuses = [post(emu, "/users/track", ONE).status_code for _ in range(3)]
    r = post(emu, "/users/track", {"attributes": [{"external_id": "late", "a": 1}]})
    assert statuses == [201, 201, 201]
    assert r.status_code == 429
    assert 1 <= int(r.headers["x-ratelimit-retry-after"]) <= 60
    assert lower_headers(r) == {"x-ratelimit-retry-after"}
    assert emulator_user_ids(emu) == ["u"]
    assert emu.stats()["rate_limited"] == 1 and emu.stats()["statuses"]["429"] == 1


def test_legacy_mode_reports_an_epoch_reset_and_no_retry_after(emulator_factory: Any) -> None:
    emu = emulator_factory(rate_limit=1, rate_window_s=60, rate_limit_mode="legacy")
    ok = post(emu, "/users/track", ONE)
    assert int(ok.headers["x-ratelimit-reset"]) > time.time() - 1
    r = post(emu, "/users/track", ONE)
    assert r.status_code == 429
    assert lower_headers(r) == RATE_HEADERS
    assert r.headers["x-ratelimit-remaining"] == "0"


def test_window_resets(emulator_factory: Any) -> None:
    emu = emulator_factory(rate_limit=1, rate_window_s=0.5)
    assert post(emu, "/users/track", ONE).status_code == 201
    codes = []
    for _ in range(40):  # at most two windows apart; no wall-clock assertion
        codes.append(post(emu, "/users/track", ONE).status_code)
        if codes[-1] == 201:
            break
        time.sleep(0.05)
    assert 429 in codes or codes == [201]
    assert codes[-1] == 201


def emulator_user_ids(emu: Emulator) -> list[str | None]:
    return [u["external_id"] for u in emu.users()]


def test_fail_next_cycles_through_statuses_then_recovers(emulator: Emulator) -> None:
    emulator.set_faults(fail_next=3, fail_statuses=(500, 502, 503))
    codes = [post(emulator, "/users/track", ONE).status_code for _ in range(4)]
    assert codes == [500, 502, 503, 201]
    assert emulator.stats()["faults_injected"] == 3
    assert emulator.user("u") is not None
    assert emulator_user_ids(emulator) == ["u"]
    expected = expected_stats(
        {"500": 1, "502": 1, "503": 1, "201": 1},
        requests=4,
        objects=1,
        data_points=1,
        faults_injected=3,
        users_created=1,
        users=1,
    )
    assert emulator.stats() == expected


def test_throttle_burst_gives_429s_with_retry_after(emulator: Emulator) -> None:
    emulator.set_faults(throttle_next=2)
    first = post(emulator, "/users/track", {"attributes": [{"external_id": "t1", "a": 1}]})
    second = post(emulator, "/users/track", {"attributes": [{"external_id": "t2", "a": 1}]})
    third = post(emulator, "/users/track", ONE)
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 201)
    assert first.headers["x-ratelimit-retry-after"] == "1"
    assert first.json() == second.json() == {"message": "Rate Limited"}
    assert lower_headers(first) == lower_headers(second) == {"x-ratelimit-retry-after"}
    assert third.json() == {"message": "success", "attributes_processed": 1}
    # The throttled objects were never applied; only the third request's user exists.
    assert emulator_user_ids(emulator) == ["u"]
    assert emulator.user("t1") is None and emulator.user("t2") is None
    expected = expected_stats(
        {"429": 2, "201": 1},
        requests=3,
        objects=1,
        data_points=1,
        rate_limited=2,
        faults_injected=2,
        users_created=1,
        users=1,
    )
    assert emulator.stats() == expected


def test_seeded_fail_rate_is_repeatable(emulator_factory: Any) -> None:
    runs = []
    states = []
    for _ in range(2):
        emu = emulator_factory(fail_rate=0.5, seed=7)
        events = [
            {"events": [{"external_id": "u", "name": f"e{i}", "time": "2024-01-01T00:00:00Z"}]}
            for i in range(12)
        ]
        runs.append([post(emu, "/users/track", body).status_code for body in events])
        states.append((emu, [e["name"] for e in emu.events()]))
    assert runs[0] == runs[1]
    assert {201} < set(runs[0])
    codes = runs[0]
    failures = [c for c in codes if c != 201]
    # Injected failures cycle through fail_statuses (500, 502, 503) in order.
    assert failures == [(500, 502, 503)[i % 3] for i in range(len(failures))]
    ok = codes.count(201)
    for emu, names in states:
        # Exactly the events of the requests answered 201 were stored, in order.
        assert names == [f"e{i}" for i, c in enumerate(codes) if c == 201]
        assert emulator_user_ids(emu) == ["u"]
        statuses: dict[str, int] = {}
        for c in codes:
            statuses[str(c)] = statuses.get(str(c), 0) + 1
        expected = expected_stats(
            statuses,
            requests=12,
            objects=ok,
            data_points=ok,
            faults_injected=len(failures),
            users_created=1,
            users=1,
            events=ok,
        )
        assert emu.stats() == expected


def test_drop_before_closes_without_applying(emulator: Emulator) -> None:
    emulator.set_faults(drop_before_next=1)
    with pytest.raises(requests.ConnectionError):
        post(emulator, "/users/track", ONE)
    assert emulator.users() == []
    assert post(emulator, "/users/track", ONE).status_code == 201
    assert emulator.stats()["drops_before"] == 1


def test_drop_after_applies_then_closes_without_answering(emulator: Emulator) -> None:
    emulator.set_faults(drop_after_next=1)
    event = {"events": [{"external_id": "u", "name": "e", "time": "2024-01-01T00:00:00Z"}]}
    with pytest.raises(requests.ConnectionError):
        post(emulator, "/users/track", event)
    assert len(emulator.events()) == 1  # applied although the client heard nothing
    assert emulator.stats()["drops_after"] == 1


def test_latency_is_added(emulator: Emulator) -> None:
    emulator.set_faults(latency_ms=150)
    started = time.monotonic()
    r = post(emulator, "/users/track", ONE)
    assert r.status_code == 201
    assert time.monotonic() - started >= 0.15  # a lower bound only: never an upper one
    assert r.json() == {"message": "success", "attributes_processed": 1}
    # Latency alone is not a fault that refuses the request: it is applied once, as usual.
    assert emulator.user("u")["a"] == 1  # type: ignore[index]
    expected = expected_stats(
        {"201": 1}, requests=1, objects=1, data_points=1, users_created=1, users=1
    )
    assert emulator.stats() == expected


def test_faults_endpoint_changes_faults_at_run_time(emulator: Emulator) -> None:
    r = requests.post(f"{emulator.url}/_emulator/faults", json={"fail_next": 1}, timeout=10)
    assert r.status_code == 200 and r.json()["fail_next"] == 1
    assert post(emulator, "/users/track", ONE).status_code == 500
    bad = requests.post(f"{emulator.url}/_emulator/faults", json={"nope": 1}, timeout=10)
    assert bad.status_code == 400 and "nope" in bad.json()["message"]
    assert bad.json() == {"message": "unknown fault settings: nope"}


def test_control_endpoints_read_back_and_reset(emulator: Emulator) -> None:
    body = {
        "attributes": [{"external_id": "a/b", "x": 1}],
        "events": [{"external_id": "a/b", "name": "e", "time": "2024-01-01"}],
        "purchases": [
            {
                "external_id": "a/b",
                "product_id": "p",
                "currency": "USD",
                "price": 2,
                "time": "2024-01-01",
            }
        ],
    }
    assert post(emulator, "/users/track", body).status_code == 201
    base = f"{emulator.url}/_emulator"
    user = requests.get(f"{base}/users/a%2Fb", timeout=10).json()
    assert user["x"] == 1 and user["external_id"] == "a/b"
    assert requests.get(f"{base}/users/missing", timeout=10).status_code == 404
    assert [u["external_id"] for u in requests.get(f"{base}/users", timeout=10).json()] == ["a/b"]
    assert [e["name"] for e in requests.get(f"{base}/events", timeout=10).json()] == ["e"]
    assert len(requests.get(f"{base}/purchases", timeout=10).json()) == 1
    stats = requests.get(f"{base}/stats", timeout=10).json()
    assert (stats["requests"], stats["objects"], stats["users"]) == (1, 3, 1)
    assert requests.post(f"{base}/reset", timeout=10).status_code == 200
    assert emulator.users() == [] and emulator.events() == [] and emulator.stats()["requests"] == 0


def test_delete_removes_users_and_counts_them(emulator: Emulator) -> None:
    post(
        emulator,
        "/users/track",
        {"attributes": [{"external_id": f"u{i}", "a": i} for i in range(3)]},
    )
    r = post(emulator, "/users/delete", {"external_ids": ["u0", "u1"]})
    assert (r.status_code, r.json()) == (201, {"deleted": 2, "message": "success"})
    assert emulator_user_ids(emulator) == ["u2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"external_ids": ["u"] + [f"u{i}" for i in range(50)]},
            "The max number of external_ids and aliases per request was exceeded",
        ),
        (
            {"braze_ids": [f"b{i}" for i in range(51)]},
            "The max number of ids per request was exceeded",
        ),
        (
            {"external_ids": ["u"], "braze_ids": ["b"]},
            "Only one type of identifier may be provided per request.",
        ),
        ({}, "No identifiers were provided."),
        ({"email_addresses": [{"email": "a@b.co"}]}, "Invalid entry in 'email_addresses'."),
    ],
)
def test_delete_limits(emulator: Emulator, body: dict[str, Any], message: str) -> None:
    post(emulator, "/users/track", ONE)
    r = post(emulator, "/users/delete", body)
    assert r.status_code == 400
    assert message in r.json()["message"]
    assert r.json() == {"message": message}
    assert emulator_user_ids(emulator) == ["u"]
    expected = expected_stats(
        {"201": 1, "400": 1},
        requests=2,
        objects=1,
        data_points=1,
        fatal_errors=1,
        users_created=1,
        users=1,
    )
    assert emulator.stats() == expected


def test_delete_by_alias_and_email(emulator: Emulator) -> None:
    alias = {"alias_name": "n", "alias_label": "l"}
    post(
        emulator,
        "/users/track",
        {"attributes": [{"user_alias": alias, "_update_existing_only": False}]},
    )
    post(emulator, "/users/track", {"attributes": [{"email": "e@x.io", "a": 1}]})
    assert post(emulator, "/users/delete", {"user_aliases": [alias]}).json()["deleted"] == 1
    by_email = {
        "email_addresses": [{"email": "e@x.io", "prioritization": ["most_recently_updated"]}]
    }
    assert post(emulator, "/users/delete", by_email).status_code == 201
    assert emulator.users() == []


def test_bulk_takes_up_to_1000_objects(emulator: Emulator) -> None:
    attrs = [{"external_id": f"u{i}", "a": i} for i in range(1000)]
    r = post(emulator, "/users/track/bulk", {"attributes": attrs})
    assert (r.status_code, r.json()["attributes_processed"]) == (201, 1000)
    r = post(emulator, "/users/track/bulk", {"attributes": [*attrs, {"external_id": "x"}]})
    assert r.status_code == 400
    assert r.json() == {"message": "Max Input Length Exceeded"}
    assert len(emulator.users()) == 1000
    assert emulator.user("x") is None


def test_bulk_body_over_its_limit_is_400(emulator_factory: Any) -> None:
    emu = emulator_factory(bulk_max_body_bytes=500)
    r = post(emu, "/users/track/bulk", {"attributes": [{"external_id": "u", "s": "x" * 600}]})
    assert r.status_code == 400
    assert r.json() == {"message": "Request Entity Too Large"}
    assert r.headers["Connection"] == "close"
    # The body was refused unread: nothing stored, no object counted.
    assert emu.users() == []
    expected = expected_stats({"400": 1}, requests=1)
    assert emu.stats() == expected
    small = post(emu, "/users/track/bulk", {"attributes": [{"external_id": "u", "s": "x"}]})
    assert (small.status_code, small.json()) == (
        201,
        {"message": "success", "attributes_processed": 1},
    )
    assert emulator_user_ids(emu) == ["u"]


def test_keep_alive_connection_survives_rejections(emulator_factory: Any) -> None:
    emu = emulator_factory(rate_limit=1, rate_window_s=60)
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    payload = json.dumps(ONE)
    statuses = []
    for headers in (AUTH, {"Authorization": "Bearer bad"}, AUTH):
        conn.request(
            "POST",
            "/users/track",
            body=payload,
            headers={**headers, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
    conn.close()
    assert statuses == [201, 401, 429]
