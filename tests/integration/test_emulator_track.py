"""`/users/track` over real HTTP: limits, per-object errors, fatal 400s and the stored state."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dbt_braze.braze_rules import IDENTIFIER_REQUIRED, MAX_INPUT_LENGTH_EXCEEDED, NO_VALID_DATA
from dbt_braze.emulator import Emulator

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


def test_body_over_the_size_limit_is_413(emulator_factory: Any) -> None:
    emu = emulator_factory(max_body_bytes=1000)
    r = track(emu, {"attributes": [{"external_id": "u", "s": "x" * 200} for _ in range(5)]})
    assert (r.status_code, r.json()) == (413, {"message": "Request Entity Too Large"})
    assert emu.users() == []


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"external_id": "a", "user_alias": {"alias_name": "n", "alias_label": "l"}}, "only one"),
        ({"external_id": "a" * 988}, "EXTERNAL_USER_ID_TOO_LARGE"),
        ({"external_id": "null"}, "blacklisted"),
        ({"user_alias": {"alias_name": "n"}}, "alias_label"),
        ({"email": "not-an-email"}, "not a valid email"),
        ({"external_id": "a", "s": "x" * 256}, "255 characters"),
        ({"external_id": "a", "$bad": 1}, "must not start with '$'"),
        ({"external_id": "a", "gender": "male"}, "'gender'"),
        ({"external_id": "a", "email_subscribe": "yes"}, "BAD_EMAIL_SUBSCRIPTION_STATE"),
        ({"external_id": "a", "dob": "1990/01/01"}, "'dob'"),
        ({"external_id": "a", "tags": [str(i) for i in range(501)]}, "500 items"),
        ({"external_id": "a", "obj": {"bad key": 1}}, "nested key"),
        ({"external_id": "a", "obj": {"k": None}}, "null"),
        ({"external_id": "a", "obj": {"k": "x" * (101 * 1024)}}, "255"),
        ({"external_id": "a", "n": {"inc": "1"}}, "inc"),
        ({"external_id": "a", "_merge_objects": "yes"}, "_merge_objects"),
    ],
)
def test_attribute_rules_reject_the_object(
    emulator: Emulator, obj: dict[str, Any], fragment: str
) -> None:
    r = track(emulator, {"attributes": [{"external_id": "ok", "v": 1}, obj]})
    assert r.status_code == 201
    errors = r.json()["errors"]
    assert [(e["input_array"], e["index"]) for e in errors] == [("attributes", 1)]
    assert fragment in errors[0]["type"]
    assert [u["external_id"] for u in emulator.users()] == ["ok"]


def test_nested_object_over_size_limit_is_rejected(emulator_factory: Any) -> None:
    emu = emulator_factory(nested_max_bytes=1024)
    r = track(
        emu, {"attributes": [{"external_id": "a", "o": {f"k{i}": "v" * 50 for i in range(30)}}]}
    )
    assert r.status_code == 400
    assert "larger than 1024 bytes" in r.json()["errors"][0]["type"]


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"external_id": "a", "time": T}, "'name' is required"),
        ({"external_id": "a", "name": "e", "time": "yesterday"}, "ISO 8601"),
        ({"external_id": "a", "name": "e", "time": "2024-02-30"}, "ISO 8601"),
        ({"external_id": "a", "name": "e", "time": T, "properties": {"$p": 1}}, "'$'"),
        ({"external_id": "a", "name": "e", "time": T, "properties": {"time": 1}}, "reserved"),
        ({"external_id": "a", "name": "e", "time": T, "properties": {"p": "x" * 256}}, "255"),
    ],
)
def test_event_rules(emulator: Emulator, event: dict[str, Any], fragment: str) -> None:
    good = {"external_id": "a", "name": "ok", "time": T, "properties": {"n": 1}}
    r = track(emulator, {"events": [good, event]})
    assert r.status_code == 201
    body = r.json()
    assert body["events_processed"] == 1
    assert [(e["input_array"], e["index"]) for e in body["errors"]] == [("events", 1)]
    assert fragment in body["errors"][0]["type"]
    assert [e["name"] for e in emulator.events()] == ["ok"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"product_id": None}, "'product_id' is required"),
        ({"currency": "usd"}, "ISO 4217"),
        ({"currency": "ABC"}, "ISO 4217"),
        ({"currency": None}, "'currency' is required"),
        ({"price": "9.99"}, "'price'"),
        ({"quantity": 101}, "'quantity'"),
        ({"quantity": 0}, "'quantity'"),
        ({"time": None}, "'time' is required"),
    ],
)
def test_purchase_rules(emulator: Emulator, changes: dict[str, Any], fragment: str) -> None:
    good = {"external_id": "a", "product_id": "p", "currency": "USD", "price": 9.99, "time": T}
    bad = {k: v for k, v in {**good, **changes}.items() if v is not None}
    r = track(emulator, {"purchases": [good, bad]})
    assert r.status_code == 201
    body = r.json()
    assert body["purchases_processed"] == 1
    assert [(e["input_array"], e["index"]) for e in body["errors"]] == [("purchases", 1)]
    assert fragment in body["errors"][0]["type"]
    assert len(emulator.purchases()) == 1


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
