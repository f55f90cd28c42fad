"""The users sync end to end: real dbt project, real warehouse, real emulator over HTTP."""

from __future__ import annotations

import pytest

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
    columns = ", ".join(ATTRIBUTES)
    row = project.query(f"select {columns} from {USERS} where customer_id = {customer_id}")[0]
    expected = {}
    for (column, attribute), value in zip(ATTRIBUTES.items(), row, strict=True):
        if value is None:
            continue
        if column == "last_order_at":
            value = value.isoformat().replace("+00:00", "") + "Z"
        elif column == "lifetime_value":
            value = float(value) if value != int(value) else int(value)
        expected[attribute] = value
    return expected


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
    for customer_id in (1, 3, 42, 200):
        assert profile(emulator, str(customer_id)) == _expected(project, customer_id)
    assert "country" not in profile(emulator, "3")

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
    emulator = emulator_factory(string_max_chars=40)  # type: ignore[operator]
    long_name = "Maximilian-Alexander Fitzgerald-Worthington"
    execute(project, f"update {USERS} set first_name = %s where customer_id = 5", (long_name,))

    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=1)
    assert "rejected=1" in out.stdout
    assert emulator.user("5") is None
    assert emulator.stats()["users"] == 199
    rows = project.query("select dbt_braze__key, reason, message from analytics_braze.rejections")
    assert len(rows) == 1 and rows[0][:2] == ("5", "rejected")
    assert "first_name" in rows[0][2]
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


@pytest.mark.parametrize("mode", ["delete", "ignore"])
def test_on_delete_modes(example_project: object, emulator: Emulator, mode: str) -> None:
    project = example_project("duckdb")  # type: ignore[operator]
    yaml_path = project.path / "models" / "users" / "_braze_users.yml"
    yaml_path.write_text(yaml_path.read_text().replace("on_delete: unset", f"on_delete: {mode}"))
    project.dbt("build", "-s", "+braze_users")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)

    execute(project, f"delete from {USERS} where customer_id in (8, 9)")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "removed=2" in out.stdout
    if mode == "delete":
        assert emulator.user("8") is None and emulator.user("9") is None
        assert emulator.stats()["users"] == 198
    else:
        assert profile(emulator, "8") == _expected_from_braze(emulator, "8")
        assert emulator.stats()["users"] == 200


def _expected_from_braze(emulator: Emulator, external_id: str) -> dict[str, object]:
    user = profile(emulator, external_id)
    assert user, "an ignored removal must leave the profile as it was"
    return user


def test_mass_delete_guard(duckdb_project: ExampleProject, emulator: Emulator) -> None:
    project = duckdb_project
    project.dbt("build", "-s", "+braze_users")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    execute(project, f"delete from {USERS} where customer_id <= 50")

    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=2)
    assert "would remove 25%" in out.stdout and "--allow-mass-delete" in out.stdout
    assert emulator.stats()["requests"] == before["requests"]
    assert profile(emulator, "1")  # untouched

    execute(project, f"delete from {USERS}")
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator, expect=2)
    assert "is empty" in out.stdout

    dbt_braze(project, "sync", "-s", "braze_users", "--allow-mass-delete", emulator=emulator)
    assert profile(emulator, "1") == {}
