"""`/users/track` over real HTTP: limits, per-object errors, fatal 400s and the stored state."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dbt_braze.braze_rules import (
    BAD_EMAIL,
    IDENTIFIER_REQUIRED,
    MAX_INPUT_LENGTH_EXCEEDED,
    NO_VALID_DATA,
    ONE_PRIMARY_IDENTIFIER,
)
from dbt_braze.emulator import Emulator
from tests.fixtures.emulator import expected_stats

AUTH = {"Authorization": "Bearer test-key-123456"}
T = "2024-05-01T12:00:00Z"


def track(emu: Emulator, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(f"{emu.url}/users/track", json=body, headers=AUTH, timeout=10, **kwargs)


def test_valid_attributes_are_stored_and_counted(emulator: Emulator) -> None:
    body = {"attributes": [{"external_id": "u1", "first_name": "Ada", "ltv": 12.5, "vip": True}]}
    r = track(emulator, body)
    assert r.status_code == 201
    assert r.json() == {"message": "success", "attributes_processed": 1}
    user = emulator.user("u1")
    assert user is not None
    assert (user["first_name"], user["ltv"], user["vip"]) == ("Ada", 12.5, True)
    assert user["external_id"] == "u1"
    stats = emulator.stats()
    assert (stats["requests"], stats["objects"], stats["data_points"]) == (1, 1, 3)
    assert stats["statuses"] == {"201": 1}


def test_76_attribute_objects_are_a_fatal_400_and_nothing_is_stored(emulator: Emulator) -> None:
    body = {"attributes": [{"external_id": f"u{i}", "a": i} for i in range(76)]}
    r = track(emulator, body)
    assert r.status_code == 400
    assert r.json() == {"message": MAX_INPUT_LENGTH_EXCEEDED}
    assert emulator.users() == []


def test_75_objects_combined_is_the_cap_in_current_mode(emulator: Emulator) -> None:
    attrs = [{"external_id": f"u{i}", "a": i} for i in range(40)]
    events = [{"external_id": "u1", "name": "e", "time": T} for _ in range(35)]
    assert track(emulator, {"attributes": attrs, "events": events}).status_code == 201
    events.append({"external_id": "u1", "name": "e", "time": T})
    r = track(emulator, {"attributes": attrs, "events": events})
    assert (r.status_code, r.json()) == (400, {"message": MAX_INPUT_LENGTH_EXCEEDED})
    assert len(emulator.events()) == 35


def test_legacy_mode_allows_75_per_array(emulator_factory: Any) -> None:
    emu = emulator_factory(combined_object_limit=False)
    attrs = [{"external_id": f"u{i}", "a": i} for i in range(75)]
    events = [{"external_id": "u1", "name": "e", "time": T} for _ in range(75)]
    r = track(emu, {"attributes": attrs, "events": events})
    assert r.status_code == 201
    assert r.json()["events_processed"] == 75
    r = track(emu, {"attributes": [*attrs, {"external_id": "x"}]})
    assert (r.status_code, r.json()) == (400, {"message": MAX_INPUT_LENGTH_EXCEEDED})


def test_missing_identifier_in_one_of_three_objects(emulator: Emulator) -> None:
    body = {"attributes": [{"external_id": "a", "x": 1}, {"x": 2}, {"external_id": "c", "x": 3}]}
    r = track(emulator, body)
    assert r.status_code == 201
    assert r.json() == {
        "message": "success",
        "attributes_processed": 2,
        "errors": [{"type": IDENTIFIER_REQUIRED, "input_array": "attributes", "index": 1}],
    }
    assert emulator.user("a")["x"] == 1  # type: ignore[index]
    assert emulator.user("c")["x"] == 3  # type: ignore[index]
    assert len(emulator.users()) == 2
    assert emulator.stats()["rejections"] == 1


def test_nothing_valid_is_a_fatal_400_with_the_errors(emulator: Emulator) -> None:
    r = track(emulator, {"events": [{"external_id": "a", "name": "e"}]})
    assert r.status_code == 400
    assert r.json() == {
        "message": NO_VALID_DATA,
        "errors": [{"type": "'time' is required", "input_array": "events", "index": 0}],
    }
    assert emulator.users() == [] and emulator.events() == []


@pytest.mark.parametrize("body", [{}, {"attributes": []}])
def test_empty_body_is_a_fatal_400(emulator: Emulator, body: dict[str, Any]) -> None:
    r = track(emulator, body)
    assert (r.status_code, r.json()) == (400, {"message": NO_VALID_DATA})


def test_invalid_json_is_400(emulator: Emulator) -> None:
    r = requests.post(f"{emulator.url}/users/track", data=b"{not json", headers=AUTH, timeout=10)
    assert r.status_code == 400
    assert set(r.json()) == {"message"}
    assert r.json() == {"message": "Invalid JSON in request body."}
    assert emulator.users() == [] and emulator.events() == [] and emulator.purchases() == []
    expected = expected_stats({"400": 1}, requests=1, fatal_errors=1)
    assert emulator.stats() == expected


def test_body_over_the_size_limit_is_413(emulator_factory: Any) -> None:
    emu = emulator_factory(max_body_bytes=1000)
    r = track(emu, {"attributes": [{"external_id": "u", "s": "x" * 200} for _ in range(5)]})
    assert (r.status_code, r.json()) == (413, {"message": "Request Entity Too Large"})
    assert emu.users() == []


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {"external_id": "a", "user_alias": {"alias_name": "n", "alias_label": "l"}},
            ONE_PRIMARY_IDENTIFIER,
        ),
        (
            {"external_id": "a" * 988},
            "EXTERNAL_USER_ID_TOO_LARGE: 'external_id' is longer than 987 bytes",
        ),
        ({"external_id": "null"}, "provided external_id is blacklisted and disallowed"),
        (
            {"user_alias": {"alias_name": "n"}},
            "'user_alias' must have a string 'alias_name' and 'alias_label'",
        ),
        ({"email": "not-an-email"}, BAD_EMAIL),
        ({"external_id": "a", "s": "x" * 256}, "'s' is longer than 255 characters"),
        ({"external_id": "a", "$bad": 1}, "attribute name '$bad' must not start with '$'"),
        ({"external_id": "a", "gender": "male"}, "'gender' must be one of M, F, O, N, P or null"),
        ({"external_id": "a", "email_subscribe": "yes"}, "BAD_EMAIL_SUBSCRIPTION_STATE"),
        ({"external_id": "a", "dob": "1990/01/01"}, "'dob' must be a date as YYYY-MM-DD"),
        (
            {"external_id": "a", "tags": [str(i) for i in range(501)]},
            "'tags' has more than 500 items",
        ),
        (
            {"external_id": "a", "obj": {"bad key": 1}},
            "'obj' has a nested key Braze refuses (no spaces, '.' or '$')",
        ),
        ({"external_id": "a", "obj": {"k": None}}, "'obj' must not contain null values"),
        (
            {"external_id": "a", "obj": {"k": "x" * (101 * 1024)}},
            "'obj' has a nested value longer than 255 characters",
        ),
        ({"external_id": "a", "n": {"inc": "1"}}, "'n' inc must be a number"),
        ({"external_id": "a", "_merge_objects": "yes"}, "'_merge_objects' must be a boolean"),
    ],
)
def test_attribute_rules_reject_the_object(
    emulator: Emulator, obj: dict[str, Any], message: str
) -> None:
    r = track(emulator, {"attributes": [{"external_id": "ok", "v": 1}, obj]})
    assert r.status_code == 201
    errors = r.json()["errors"]
    assert [(e["input_array"], e["index"]) for e in errors] == [("attributes", 1)]
    assert errors == [{"type": message, "input_array": "attributes", "index": 1}]
    assert r.json() == {"message": "success", "attributes_processed": 1, "errors": errors}
    assert [u["external_id"] for u in emulator.users()] == ["ok"]
    assert emulator.user("ok")["v"] == 1  # type: ignore[index]
    expected = expected_stats(
        {"201": 1}, requests=1, objects=2, data_points=1, rejections=1, users_created=1, users=1
    )
    assert emulator.stats() == expected


def test_nested_object_over_size_limit_is_rejected(emulator_factory: Any) -> None:
    emu = emulator_factory(nested_max_bytes=1024)
    r = track(
        emu, {"attributes": [{"external_id": "a", "o": {f"k{i}": "v" * 50 for i in range(30)}}]}
    )
    assert r.status_code == 400
    assert "larger than 1024 bytes" in r.json()["errors"][0]["type"]
    assert r.json() == {
        "message": NO_VALID_DATA,
        "errors": [
            {"type": "'o' is larger than 1024 bytes", "input_array": "attributes", "index": 0}
        ],
    }
    assert emu.users() == [] and emu.user("a") is None
    # A fatal 400 writes nothing and counts no objects, only the rejection and the fatal error.
    expected = expected_stats({"400": 1}, requests=1, rejections=1, fatal_errors=1)
    assert emu.stats() == expected


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"external_id": "a", "time": T}, "'name' is required"),
        (
            {"external_id": "a", "name": "e", "time": "yesterday"},
            "'time' must be an ISO 8601 time",
        ),
        (
            {"external_id": "a", "name": "e", "time": "2024-02-30"},
            "'time' must be an ISO 8601 time",
        ),
        (
            {"external_id": "a", "name": "e", "time": T, "properties": {"$p": 1}},
            "property name '$p' must not start with '$'",
        ),
        (
            {"external_id": "a", "name": "e", "time": T, "properties": {"time": 1}},
            "property name 'time' is reserved",
        ),
        (
            {"external_id": "a", "name": "e", "time": T, "properties": {"p": "x" * 256}},
            "property 'p' is longer than 255 characters",
        ),
    ],
)
def test_event_rules(emulator: Emulator, event: dict[str, Any], message: str) -> None:
    good = {"external_id": "a", "name": "ok", "time": T, "properties": {"n": 1}}
    r = track(emulator, {"events": [good, event]})
    assert r.status_code == 201
    body = r.json()
    assert body["events_processed"] == 1
    assert [(e["input_array"], e["index"]) for e in body["errors"]] == [("events", 1)]
    assert body == {
        "message": "success",
        "events_processed": 1,
        "errors": [{"type": message, "input_array": "events", "index": 1}],
    }
    assert [e["name"] for e in emulator.events()] == ["ok"]
    assert emulator.events()[0]["properties"] == {"n": 1}
    assert emulator.purchases() == []
    expected = expected_stats(
        {"201": 1},
        requests=1,
        objects=2,
        data_points=1,
        rejections=1,
        users_created=1,
        users=1,
        events=1,
    )
    assert emulator.stats() == expected


BAD_CURRENCY = "'currency' must be an ISO 4217 alphabetic currency code"
BAD_QUANTITY = "'quantity' must be an integer from 1 to 100"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"product_id": None}, "'product_id' is required"),
        ({"currency": "usd"}, BAD_CURRENCY),
        ({"currency": "ABC"}, BAD_CURRENCY),
        ({"currency": None}, "'currency' is required"),
        ({"price": "9.99"}, "'price' is required and must be a number"),
        ({"quantity": 101}, BAD_QUANTITY),
        ({"quantity": 0}, BAD_QUANTITY),
        ({"time": None}, "'time' is required"),
    ],
)
def test_purchase_rules(emulator: Emulator, changes: dict[str, Any], message: str) -> None:
    good = {"external_id": "a", "product_id": "p", "currency": "USD", "price": 9.99, "time": T}
    bad = {k: v for k, v in {**good, **changes}.items() if v is not None}
    r = track(emulator, {"purchases": [good, bad]})
    assert r.status_code == 201
    body = r.json()
    assert body["purchases_processed"] == 1
    assert [(e["input_array"], e["index"]) for e in body["errors"]] == [("purchases", 1)]
    assert body == {
        "message": "success",
        "purchases_processed": 1,
        "errors": [{"type": message, "input_array": "purchases", "index": 1}],
    }
    assert len(emulator.purchases()) == 1
    buyer = emulator.user("a")
    assert buyer is not None
    assert emulator.purchases() == [{**good, "braze_id": buyer["braze_id"]}]
    assert emulator.events() == []
    expected = expected_stats(
        {"201": 1},
        requests=1,
        objects=2,
        data_points=1,
        rejections=1,
        users_created=1,
        users=1,
        purchases=1,
    )
    assert emulator.stats() == expected


def test_errors_index_each_array_separately(emulator: Emulator) -> None:
    body = {
        "attributes": [{"external_id": "a", "x": 1}, {"x": 2}],
        "events": [{"name": "e", "time": T}, {"external_id": "a", "name": "e", "time": T}],
        "purchases": [{"external_id": "a", "product_id": "p", "currency": "EUR", "time": T}],
    }
    r = track(emulator, body)
    assert r.status_code == 201
    got = r.json()
    assert (got["attributes_processed"], got["events_processed"]) == (1, 1)
    assert got["purchases_processed"] == 0
    assert [(e["input_array"], e["index"]) for e in got["errors"]] == [
        ("attributes", 1),
        ("events", 0),
        ("purchases", 0),
    ]
    assert got == {
        "message": "success",
        "attributes_processed": 1,
        "events_processed": 1,
        "purchases_processed": 0,
        "errors": [
            {"type": IDENTIFIER_REQUIRED, "input_array": "attributes", "index": 1},
            {"type": IDENTIFIER_REQUIRED, "input_array": "events", "index": 0},
            {
                "type": "'price' is required and must be a number",
                "input_array": "purchases",
                "index": 0,
            },
        ],
    }
    assert emulator_user_ids(emulator) == ["a"]
    assert emulator.user("a")["x"] == 1  # type: ignore[index]
    assert [(e["external_id"], e["name"]) for e in emulator.events()] == [("a", "e")]
    assert emulator.purchases() == []
    expected = expected_stats(
        {"201": 1},
        requests=1,
        objects=5,
        data_points=2,
        rejections=3,
        users_created=1,
        users=1,
        events=1,
    )
    assert emulator.stats() == expected


def emulator_user_ids(emu: Emulator) -> list[str | None]:
    return [u["external_id"] for u in emu.users()]
