"""Kill the users sync at many points; the rerun must leave Braze exactly as a clean run."""

from __future__ import annotations

import os
from collections.abc import Callable

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.crash import CROWD_USERS, SLOW, KillReport, add_crowd_model, kill_at
from tests.fixtures.dbt_project import ExampleProject

ARGS: tuple[str, ...] = ()
# Requests answered in each run before its kill. A sync of the crowd is 40 requests and each
# rerun resumes, so the kills land (cumulatively) before any request, early, middle and late:
# after 0, 2, 7, 16 and 31 requests; more points with DBT_BRAZE_LONG=1 (make test-long).
KILL_POINTS = (0, 1, 2, 3, 4, 6, 8, 10) if os.environ.get("DBT_BRAZE_LONG") else (0, 2, 5, 9, 15)


def _profiles(emulator: Emulator) -> dict[str, dict[str, object]]:
    return {
        str(u["external_id"]): {k: v for k, v in u.items() if k not in ("braze_id",)}
        for u in emulator.users()
    }


def _killed_then_finished(project: ExampleProject, emulator: Emulator, report: KillReport) -> None:
    for point in KILL_POINTS:
        killed = kill_at(project, emulator, ARGS, SLOW, point, seconds=2.5)
        report.kills += killed
        report.finished_before_kill += not killed
    dbt_braze(project, "sync", *ARGS, emulator=emulator, settings=SLOW)


def test_sigkill_anywhere_converges_to_a_clean_run(
    warehouse_project: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    project = warehouse_project
    add_crowd_model(project, "braze_crowd")
    project.dbt("run", "-s", "braze_crowd")
    reference = emulator_factory()
    crashed = emulator_factory()
    clean = {"state_schema": "reference_braze"}

    dbt_braze(project, "sync", *ARGS, emulator=reference, settings=clean)
    report = KillReport()
    _killed_then_finished(project, crashed, report)
    assert report.kills >= 4, report
    assert len(_profiles(reference)) == CROWD_USERS
    assert _profiles(crashed) == _profiles(reference)

    # Then a third of the users change, and the changed sync is killed all through too.
    table = "analytics.braze_crowd"
    execute(project, f"update {table} set bucket = bucket + 100, is_even = not is_even "
            "where user_id % 3 = 0")  # fmt: skip
    execute(project, f"update {table} set full_name = null where user_id % 10 = 1")
    dbt_braze(project, "sync", *ARGS, emulator=reference, settings=clean)
    _killed_then_finished(project, crashed, report)
    reference_users = _profiles(reference)
    assert reference_users["3"]["bucket"] == 103 and "full_name" not in reference_users["1"]
    assert _profiles(crashed) == reference_users

    # Converged: a further sync has nothing left to send.
    before = crashed.stats()["requests"]
    dbt_braze(project, "sync", *ARGS, emulator=crashed, settings=SLOW)
    assert crashed.stats()["requests"] == before
