"""The users sync end to end: real dbt project, real warehouse, real emulator over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute, profile
from tests.fixtures.dbt_project import ExampleProject

USERS = "analytics.braze_users"
STATE = "analytics_braze.users__braze_users"
ATTRIBUTES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "country": "country",
    "lifetime_value": "ltv",
    "order_count": "order_count",
    "last_order_at": "last_order_at",
    "is_vip": "is_vip",
    "plan": "plan",
}


def _expected(project: ExampleProject, customer_id: int) -> dict[str, object]:
    return _expected_profiles(project, f"customer_id = {customer_id}")[str(customer_id)]


def _expected_profiles(project: ExampleProject, where: str = "true") -> dict[str, dict[str, Any]]:
    """Each model row's Braze profile, by external_id: its non-null attributes, as sent."""
    columns = ", ".join(ATTRIBUTES)
    rows = project.query(f"select customer_id, {columns} from {USERS} where {where}")
    expected = {}
    for customer_id, *values in rows:
        attributes = {}
        for (column, attribute), value in zip(ATTRIBUTES.items(), values, strict=True):
            if value is None:
                continue
            if column == "last_order_at":
                if value.tzinfo is not None:
                    value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
                value = value.isoformat() + "Z"
            elif column == "lifetime_value":
                value = float(value) if value != int(value) else int(value)
            attributes[attribute] = value
        expected[str(customer_id)] = attributes
    return expected


def _profiles(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Every profile in the emulator, by external_id, as `profile` reads one (a copy)."""
    return {
        user["external_id"]: profile(emulator, user["external_id"]) for user in emulator.users()
    }


def _track_elsewhere(emulator: Emulator, attributes: list[dict[str, Any]]) -> None:
    """Another source of the workspace writes attributes to Braze, over HTTP."""
    reply = requests.post(
        f"{emulator.url}/users/track",
        json={"attributes": attributes},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    )
    assert reply.status_code == 201 and "errors" not in reply.json(), reply.text


def test_users_sync_sends_only_differences(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    project.dbt("build")
    # A user with a null attribute: nulls in a new user's row are never sent.
    execute(project, f"update {USERS} set country = null where customer_id = 3")

    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    total = project.query(f"select count(*) from {USERS}")[0][0]
    stats = emulator.stats()
    assert stats["users"] == total == 200
    assert stats["requests"] == 3  # 200 objects, 75 a request
    # Every user holds exactly its row's non-null attributes, and Braze has no other user.
    expected = _expected_profiles(project)
    assert len(expected) == 200
    profiles = _profiles(emulator)
    assert profiles == expected
    for customer_id in (1, 3, 42, 200):
        assert profile(emulator, str(customer_id)) == _expected(project, customer_id)
    assert "country" not in profile(emulator, "3")
    # The model's nulls (users without orders, user 3's country) are absent, never sent.
    nulls = {(k, a) for k, p in expected.items() for a in ATTRIBUTES.values() if a not in p}
    assert ("3", "country") in nulls
    assert any(a == "last_order_at" for _, a in nulls)
    assert not any(a in profiles[k] for k, a in nulls)

    # One attribute of one user changes: one object with that one attribute.
    execute(project, f"update {USERS} set plan = 'platinum' where customer_id = 42")
    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    after = emulator.stats()
    assert after["requests"] - before["requests"] == 1
    assert after["objects"] - before["objects"] == 1
    assert after["data_points"] - before["data_points"] == 1
    assert profile(emulator, "42")["plan"] == "platinum"
    assert "changed=1" in out.stdout

    # A value that turns null is sent as null, which removes it in Braze.
    execute(project, f"update {USERS} set plan = null where customer_id = 42")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "plan" not in profile(emulator, "42")

    # Nothing changed: not a single request.
    before = emulator.stats()
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert emulator.stats()["requests"] == before["requests"]

    # A user removed from the model (on_delete: unset): dbt-braze's attributes are nulled.
    execute(project, f"delete from {USERS} where customer_id = 7")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "removed=1" in out.stdout
    assert profile(emulator, "7") == {}
    state = project.query(f"select plan, email from {STATE} where dbt_braze__key = '7'")
    assert state == [(None, None)]
    before = emulator.stats()
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert emulator.stats()["requests"] == before["requests"]

    # The run log has one row per model per run, with the counts.
    log = project.query(
        "select rows_new, rows_changed, rows_removed, objects_delivered from "
        "analytics_braze.run_log order by started_at"
    )
    assert log[0] == (200, 0, 0, 200)
    assert log[1] == (0, 1, 0, 1)
    assert len(log) == 6


def test_rejected_object_is_recorded_and_retried(
    warehouse_project: ExampleProject, emulator_factory: object
) -> None:
    project = warehouse_project
    project.dbt("build", "-s", "+braze_users")
    # This workspace's contract allows 40 characters; dbt-braze checks Braze's default, 255.
    contract = {"string_max_chars": 40}
    emulator = emulator_factory(**contract)  # type: ignore[operator]
    long_name = "Maximilian-Alexander Fitzgerald-Worthington"
    execute(project, f"update {USERS} set first_name = %s where customer_id = 5", (long_name,))

    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=1)
    assert "rejected=1" in out.stdout
    assert emulator.user("5") is None
    assert emulator.stats()["users"] == 199
    rows = project.query("select dbt_braze__key, reason, message from analytics_braze.rejections")
    assert len(rows) == 1 and rows[0][:2] == ("5", "rejected")
    assert "first_name" in rows[0][2]
    # The stored message is Braze's own error for the object, word for word.
    obj = {"external_id": "5", "first_name": long_name}
    braze_error = _braze_error(emulator_factory(**contract), obj)  # type: ignore[operator]
    assert "first_name" in braze_error and "40" in braze_error
    assert rows[0] == ("5", "rejected", braze_error)
    assert project.query(f"select count(*) from {STATE} where dbt_braze__key = '5'") == [(0,)]

    # Next run: the rejected user comes back in the diff and is tried again.
    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=1)
    assert "new=1 " in out.stdout and "rejected=1" in out.stdout
    # Alone in its request, the object makes Braze answer a fatal 400, once.
    assert emulator.stats()["requests"] - before["requests"] == 1

    # Fixed upstream: delivered, state advances, no further rejection.
    execute(project, f"update {USERS} set first_name = 'Max' where customer_id = 5")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=0)
    assert profile(emulator, "5")["first_name"] == "Max"
    assert project.query("select count(*) from analytics_braze.rejections") == [(2,)]
    rows = project.query("select dbt_braze__key, reason, message from analytics_braze.rejections")
    assert rows == [("5", "rejected", braze_error)] * 2


def _braze_error(probe: Emulator, obj: dict[str, Any]) -> str:
    """The error text `probe`, a fresh emulator, answers for this object sent alone."""
    reply = requests.post(
        f"{probe.url}/users/track",
        json={"attributes": [obj]},
        headers={"Authorization": f"Bearer {probe.api_key}"},
        timeout=10,
    )
    errors = reply.json()["errors"]
    assert reply.status_code == 400 and len(errors) == 1 and errors[0]["index"] == 0
    return str(errors[0]["type"])


@pytest.mark.parametrize("mode", ["ignore", "unset", "delete"])
def test_on_delete_modes(warehouse_project: ExampleProject, emulator: Emulator, mode: str) -> None:
    project = warehouse_project
    yaml_path = project.path / "models" / "users" / "_braze_users.yml"
    yaml_path.write_text(yaml_path.read_text().replace("on_delete: unset", f"on_delete: {mode}"))
    project.dbt("build", "-s", "+braze_users")
    # User 9 has no country in the model: dbt-braze never sets one on its profile.
    execute(project, f"update {USERS} set country = null where customer_id = 9")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    synced = _expected_profiles(project)
    assert _profiles(emulator) == synced
    # Another source writes attributes dbt-braze does not own to the same two users.
    _track_elsewhere(emulator, [
        {"external_id": "8", "favorite_color": "green"},
        {"external_id": "9", "favorite_color": "blue", "country": "FR"},
    ])  # fmt: skip
    copy_before = _profiles(emulator)  # a copy of every profile, taken before the removal
    assert copy_before["8"] == {**synced["8"], "favorite_color": "green"}
    assert copy_before["9"] == {**synced["9"], "favorite_color": "blue", "country": "FR"}

    execute(project, f"delete from {USERS} where customer_id in (8, 9)")
    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    after = emulator.stats()
    assert "removed=2" in out.stdout
    profiles = _profiles(emulator)
    others = {k: v for k, v in copy_before.items() if k not in ("8", "9")}
    state = f"select count(*) from {STATE} where dbt_braze__key in ('8', '9')"
    if mode == "delete":
        assert emulator.user("8") is None and emulator.user("9") is None
        assert emulator.stats()["users"] == 198
        # One /users/delete request took both, and every other profile is as it was.
        assert after["requests"] - before["requests"] == 1
        assert after["users_deleted"] - before["users_deleted"] == 2
        assert profiles == others
        assert project.query(state) == [(0,)]
    elif mode == "unset":
        # One request nulls exactly what dbt-braze had set: the other source's values stay.
        assert after["requests"] - before["requests"] == 1
        assert after["data_points"] - before["data_points"] == len(synced["8"]) + len(synced["9"])
        assert profiles == {
            **others,
            "8": {"favorite_color": "green"},
            "9": {"favorite_color": "blue", "country": "FR"},
        }
        assert emulator.stats()["users"] == 200
        nulled = " and ".join(f"{a} is null" for a in ATTRIBUTES.values())
        assert project.query(f"{state} and {nulled}") == [(2,)]
    else:
        # Not a single request, and every profile equals the copy taken before the removal.
        assert after["requests"] == before["requests"]
        assert profiles == copy_before
        assert profile(emulator, "8") == copy_before["8"]
        assert emulator.stats()["users"] == 200
        assert project.query(state) == [(2,)]

    # The removal is done once: the next sync sends nothing and changes no profile.
    before = emulator.stats()
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert emulator.stats()["requests"] == before["requests"]
    assert _profiles(emulator) == profiles


def test_mass_delete_guard(warehouse_project: ExampleProject, emulator: Emulator) -> None:
    project = warehouse_project
    project.dbt("build", "-s", "+braze_users")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    synced = _profiles(emulator)
    execute(project, f"delete from {USERS} where customer_id <= 50")

    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=2)
    assert "would remove 25%" in out.stdout and "--allow-mass-delete" in out.stdout
    assert emulator.stats()["requests"] == before["requests"]
    assert profile(emulator, "1")  # untouched
    assert _profiles(emulator) == synced

    execute(project, f"delete from {USERS}")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=2)
    assert "is empty" in out.stdout

    dbt_braze(project, "sync", "-s", "braze_users", "--allow-mass-delete", emulator=emulator)
    assert profile(emulator, "1") == {}
    assert _profiles(emulator) == {key: {} for key in synced}  # every one unset


def _invalid_keys(project: ExampleProject) -> list[tuple[Any, ...]]:
    return sorted(
        project.query(
            f"select coalesce({KEY_COLUMN}, 'null'), message from analytics_braze.rejections "
            "where reason = 'invalid'"
        )
    )


KEY_COLUMN = "dbt_braze__key"


def test_duplicate_and_null_identifiers_are_reported_never_sent(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    project.dbt("build", "-s", "+braze_users")
    # A fan-out before the first sync: users 5 and 6 twice, and a row without an identifier.
    execute(project, f"insert into {USERS} select * from {USERS} where customer_id in (5, 6)")
    execute(
        project, f"create table analytics.one_more as select * from {USERS} where customer_id = 9"
    )
    execute(project, "update analytics.one_more set customer_id = null")
    execute(project, f"insert into {USERS} select * from analytics.one_more")
    # Invalid rows make the model WARN, and the run exit 1.
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=1)
    assert "WARN" in out.stdout
    assert "new=198 " in out.stdout and "invalid=5 " in out.stdout, out.stdout
    assert emulator.stats()["users"] == 198
    assert emulator.user("5") is None and emulator.user("6") is None
    assert _invalid_keys(project) == [
        ("5", "duplicate identifier"),
        ("5", "duplicate identifier"),
        ("6", "duplicate identifier"),
        ("6", "duplicate identifier"),
        ("null", "null identifier"),
    ]

    # The model fixed: 5 and 6 are new now, and nothing else is sent.
    project.dbt("run", "-s", "braze_users")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "new=2 changed=0 " in out.stdout and "invalid=0 " in out.stdout, out.stdout
    assert profile(emulator, "5") == _expected(project, 5)
    synced = _profiles(emulator)
    assert len(synced) == 200

    # A second, different row for a synced user: reported, and neither copy is sent.
    execute(project, "delete from analytics.one_more")
    execute(project, f"insert into analytics.one_more select * from {USERS} where customer_id = 7")
    execute(project, "update analytics.one_more set plan = 'duplicate'")
    execute(project, f"insert into {USERS} select * from analytics.one_more")
    before = emulator.stats()["requests"]
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=1)
    assert "changed=0 " in out.stdout and "invalid=1 " in out.stdout, out.stdout
    assert emulator.stats()["requests"] == before
    assert _profiles(emulator) == synced
    assert ("7", "duplicate identifier") in _invalid_keys(project)
    state = project.query(f"select plan from {STATE} where dbt_braze__key = '7'")
    assert state == [(synced["7"].get("plan"),)]


def _types(project: ExampleProject, schema: str, table: str) -> dict[str, str]:
    rows = project.query(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}'"
    )
    return {name: str(kind).lower() for name, kind in rows}


TEXT_TYPES = {"text", "varchar", "character varying"}


def test_state_columns_keep_the_model_types(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    project.dbt("build", "-s", "+braze_users")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    model = _types(project, "analytics", "braze_users")
    state = _types(project, "analytics_braze", "users__braze_users")
    # Numbers, booleans and timestamps are held as the model has them, compared natively.
    for column, attribute in [
        ("lifetime_value", "ltv"),
        ("order_count", "order_count"),
        ("is_vip", "is_vip"),
        ("last_order_at", "last_order_at"),
    ]:
        assert state[attribute] == model[column] and state[attribute] not in TEXT_TYPES
    assert state["email"] in TEXT_TYPES
    synced = _profiles(emulator)

    # The model's column changes type: the state column becomes text, and nothing is resent.
    execute(
        project,
        f"alter table {USERS} alter column order_count type varchar "
        "using cast(order_count as varchar)",
    )
    before = emulator.stats()["requests"]
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "changed=0 " in out.stdout and emulator.stats()["requests"] == before, out.stdout
    assert _types(project, "analytics_braze", "users__braze_users")["order_count"] in TEXT_TYPES
    execute(project, f"update {USERS} set order_count = 'seventy' where customer_id = 3")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "changed=1 " in out.stdout and "data_points=1 " in out.stdout, out.stdout
    assert profile(emulator, "3") == {**synced["3"], "order_count": "seventy"}

    # State tables of earlier versions hold every value as text: they still compare equal.
    for attribute in ("ltv", "is_vip", "last_order_at"):
        execute(
            project,
            f'alter table {STATE} alter column "{attribute}" type varchar '
            f'using cast("{attribute}" as varchar)',
        )
    before = emulator.stats()["requests"]
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "changed=0 " in out.stdout and emulator.stats()["requests"] == before, out.stdout
    execute(project, f"update {USERS} set is_vip = not is_vip where customer_id = 4")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "changed=1 " in out.stdout and "data_points=1 " in out.stdout, out.stdout
    assert profile(emulator, "4")["is_vip"] is not synced["4"]["is_vip"]
