"""plan writes nothing anywhere; status reads the run log; reset makes the next sync full."""

from __future__ import annotations

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.fixtures.dbt_project import ExampleProject

SCHEMAS = "select schema_name from information_schema.schemata where schema_name like '%braze%'"


def _state_fingerprint(project: ExampleProject) -> list[tuple[object, ...]]:
    return project.query(
        "select (select count(*) from analytics_braze.run_log), "
        "(select count(*) from analytics_braze.rejections), "
        "(select count(*) from analytics_braze.users__braze_users), "
        "(select max(dbt_braze__synced_at) from analytics_braze.users__braze_users), "
        "(select count(*) from analytics_braze.ledger__braze_order_events)"
    )


def test_plan_writes_nothing_to_the_warehouse_or_braze(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    project.dbt("build")

    out = dbt_braze(project, "plan", emulator=emulator)
    assert project.query(SCHEMAS) == []  # not even the state schema
    assert emulator.stats()["requests"] == 0
    assert "new=200 changed=0 removed=0 unchanged=0 invalid=0" in out.stdout
    assert "new=500" in out.stdout and "new=900" in out.stdout
    assert out.stdout.count("sample: {") == 9  # three per model
    assert "data_points=1763" in out.stdout  # the non-null attributes of 200 new users

    dbt_braze(project, "sync", emulator=emulator)
    execute(project, "update analytics.braze_users set plan = 'gold' where customer_id < 11")
    execute(project, "delete from analytics.braze_users where customer_id = 200")
    before, requests = _state_fingerprint(project), emulator.stats()["requests"]
    out = dbt_braze(project, "plan", "-s", "braze_users", emulator=emulator)
    assert "new=0 changed=10 removed=1 unchanged=189" in out.stdout
    assert '"plan": "gold"' in out.stdout
    assert _state_fingerprint(project) == before
    assert emulator.stats()["requests"] == requests


def test_status_and_reset(duckdb_project: ExampleProject, emulator: Emulator) -> None:
    project = duckdb_project
    project.dbt("build", "-s", "+braze_users")
    dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)

    out = dbt_braze(project, "status")
    assert "braze_users" in out.stdout and "success" in out.stdout
    assert "Done. 1 runs shown." in out.stdout

    out = dbt_braze(project, "reset", "-s", "braze_users", expect=2)  # asks; no terminal
    assert "--yes" in out.stdout
    dbt_braze(project, "reset", "-s", "braze_users", "--yes")
    assert project.query("select count(*) from analytics_braze.sync_models") == [(0,)]

    before = emulator.stats()
    out = dbt_braze(project, "sync", "-s", "braze_users", emulator=emulator)
    assert "new=200" in out.stdout
    assert emulator.stats()["objects"] - before["objects"] == 200
    # The run log survives a reset: both runs are on record.
    assert project.query("select count(*) from analytics_braze.run_log") == [(2,)]
