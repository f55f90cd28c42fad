"""What the emulator holds after writes: Braze's attribute semantics and identifier resolution."""

from __future__ import annotations

from typing import Any

import requests

from dbt_braze.emulator import Emulator

AUTH = {"Authorization": "Bearer test-key-123456"}
T = "2024-05-01T12:00:00Z"


def track(emu: Emulator, **arrays: list[dict[str, Any]]) -> dict[str, Any]:
    r = requests.post(f"{emu.url}/users/track", json=arrays, headers=AUTH, timeout=10)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert "errors" not in body, body
    return body


def test_null_unsets_but_keeps_identifiers(emulator: Emulator) -> None:
    track(emulator, attributes=[{"external_id": "u", "a": 1, "b": 2}])
    track(emulator, attributes=[{"external_id": "u", "a": None}])
    user = emulator.user("u")
    assert user is not None
    assert "a" not in user and user["b"] == 2 and user["external_id"] == "u"


def test_increment_and_array_add_remove(emulator: Emulator) -> None:
    track(emulator, attributes=[{"external_id": "u", "n": 5, "tags": ["a", "b", "a"]}])
    track(emulator, attributes=[{"external_id": "u", "n": {"inc": -2}}])
    track(
        emulator, attributes=[{"external_id": "u", "tags": {"add": ["c", "b"], "remove": ["a"]}}]
    )
    user = emulator.user("u")
    assert user is not None
    assert user["n"] == 3
    assert user["tags"] == ["c", "b"]  # unique values; re-adding "b" moved it to the end


def test_array_add_drops_the_oldest_when_full(emulator_factory: Any) -> None:
    emu = emulator_factory(array_max_items=3)
    track(emu, attributes=[{"external_id": "u", "t": ["a", "b", "c"]}])
    track(emu, attributes=[{"external_id": "u", "t": {"add": ["d"]}}])
    assert emu.user("u")["t"] == ["b", "c", "d"]


def test_nested_objects_overwrite_unless_merge_is_asked(emulator: Emulator) -> None:
    track(emulator, attributes=[{"external_id": "u", "o": {"a": 1, "in": {"x": 1}}}])
    track(emulator, attributes=[{"external_id": "u", "o": {"in": {"y": 2}}}])
    assert emulator.user("u")["o"] == {"in": {"y": 2}}  # type: ignore[index]
    track(
        emulator,
        attributes=[{"external_id": "u", "_merge_objects": True, "o": {"b": 3, "in": {"z": 1}}}],
    )
    assert emulator.user("u")["o"] == {"in": {"y": 2, "z": 1}, "b": 3}  # type: ignore[index]


def test_array_of_objects_operations_apply_in_braze_order(emulator: Emulator) -> None:
    track(
        emulator,
        attributes=[{"external_id": "u", "pets": [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}]}],
    )
    ops = {
        "$add": [{"id": 3, "n": "c"}],
        "$remove": [{"$identifier_key": "id", "$identifier_value": 1}],
        "$update": [{"$identifier_key": "id", "$identifier_value": 3, "$new_object": {"n": "C"}}],
    }
    track(emulator, attributes=[{"external_id": "u", "_merge_objects": True, "pets": ops}])
    assert emulator.user("u")["pets"] == [{"id": 2, "n": "b"}, {"id": 3, "n": "C"}]  # type: ignore[index]


def test_update_existing_only_does_not_create(emulator: Emulator) -> None:
    track(emulator, attributes=[{"external_id": "new", "_update_existing_only": True, "a": 1}])
    assert emulator.user("new") is None
    track(emulator, attributes=[{"external_id": "new", "a": 1}])
    track(emulator, attributes=[{"external_id": "new", "_update_existing_only": True, "a": 2}])
    assert emulator.user("new")["a"] == 2  # type: ignore[index]
    assert emulator.stats()["skipped_update_only"] == 1


def test_aliases_are_update_only_unless_told_otherwise(emulator: Emulator) -> None:
    alias = {"alias_name": "n1", "alias_label": "crm"}
    track(emulator, attributes=[{"user_alias": alias, "a": 1}])
    assert emulator.find_user(alias_name="n1", alias_label="crm") is None
    track(emulator, attributes=[{"user_alias": alias, "_update_existing_only": False, "a": 1}])
    track(emulator, events=[{"user_alias": alias, "name": "e", "time": T}])
    user = emulator.find_user(alias_name="n1", alias_label="crm")
    assert user is not None and user["a"] == 1 and user["external_id"] is None
    assert user["user_aliases"] == [alias]
    assert [e["braze_id"] for e in emulator.events()] == [user["braze_id"]]


def test_braze_id_never_creates_but_updates(emulator: Emulator) -> None:
    track(emulator, attributes=[{"braze_id": "nope", "a": 1}])
    assert emulator.users() == []
    track(emulator, attributes=[{"external_id": "u", "a": 1}])
    braze_id = emulator.user("u")["braze_id"]  # type: ignore[index]
    track(emulator, attributes=[{"braze_id": braze_id, "a": 2}])
    assert emulator.user("u")["a"] == 2  # type: ignore[index]


def test_email_resolves_to_the_identified_profile_first(emulator: Emulator) -> None:
    track(emulator, attributes=[{"email": "a@x.io", "src": "email-only"}])
    track(emulator, attributes=[{"external_id": "u", "email": "a@x.io"}])
    track(emulator, attributes=[{"email": "a@x.io", "plan": "pro"}])
    assert emulator.user("u")["plan"] == "pro"  # type: ignore[index]
    assert len(emulator.users()) == 2  # the primary created a duplicate, as Braze warns
    by_email = requests.get(
        f"{emulator.url}/_emulator/users", params={"email": "a@x.io"}, timeout=10
    )
    assert [u["external_id"] for u in by_email.json()] == ["u"]


def test_phone_creates_a_phone_only_profile(emulator: Emulator) -> None:
    track(emulator, attributes=[{"phone": "+14155550100", "a": 1}])
    user = emulator.find_user(phone="+14155550100")
    assert user is not None and user["a"] == 1 and user["external_id"] is None


def test_events_and_purchases_are_never_deduplicated(emulator: Emulator) -> None:
    event = {"external_id": "u", "name": "order", "time": T, "properties": {"id": 7}}
    purchase = {"external_id": "u", "product_id": "p", "currency": "USD", "price": 1, "time": T}
    body = track(emulator, events=[event, event], purchases=[purchase])
    assert (body["events_processed"], body["purchases_processed"]) == (2, 1)
    track(emulator, events=[event])
    assert [e["properties"] for e in emulator.events()] == [{"id": 7}] * 3
    assert emulator.purchases()[0]["external_id"] == "u"
    assert emulator.user("u") is not None  # an event for a new external_id creates the user


def test_data_points_follow_braze_billing(emulator: Emulator) -> None:
    track(
        emulator,
        attributes=[
            {
                "external_id": "u",
                "a": 1,  # 1
                "gone": None,  # 1: removing counts
                "email_subscribe": "opted_in",  # free
                "tags": {"add": ["x", "y"]},  # 2: one per added value
                "o": {"k1": 1, "k2": {"k3": 2}},  # 2: each nested key
            }
        ],
        events=[{"external_id": "u", "name": "e", "time": T, "properties": {"p": 1}}],  # 1
        purchases=[
            {
                "external_id": "u",
                "product_id": "p",
                "currency": "USD",
                "price": 1,
                "time": T,
                "properties": {"p": 1, "q": 2},
            }  # 1 + 2 properties
        ],
    )
    assert emulator.stats()["data_points"] == 6 + 1 + 3
