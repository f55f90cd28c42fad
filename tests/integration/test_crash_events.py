"""Kill the events sync at many points: no event lost, duplicates only among those reported."""

from __future__ import annotations

import os
from collections import Counter

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze
from tests.crash import CROWD_EVENTS, SLOW, add_crowd_model, kill_at
from tests.fixtures.dbt_project import ExampleProject

ARGS: tuple[str, ...] = ()
# Requests answered in each run before its kill; the 40 requests of the crowd's events are
# killed (cumulatively) after 0, 3, 9, 19 and 33; more with DBT_BRAZE_LONG=1 (make test-long).
KILL_POINTS = (0, 1, 2, 3, 4, 6, 8, 10) if os.environ.get("DBT_BRAZE_LONG") else (0, 3, 6, 10, 14)


def _inflight_keys(project: ExampleProject) -> set[str]:
    rows = project.query("select dbt_braze__key from analytics_braze.inflight")
    return {row[0] for row in rows}


def test_sigkill_loses_no_event_and_reports_every_possible_duplicate(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    add_crowd_model(project, "braze_crowd_events")
    project.dbt("run", "-s", "braze_crowd_events")

    in_flight_at_kills: set[str] = set()
    kills = 0
    for point in KILL_POINTS:
        killed = kill_at(project, emulator, ARGS, SLOW, point, seconds=2.5)
        kills += killed
        if killed and point:
            in_flight_at_kills |= _inflight_keys(project)
    dbt_braze(project, "sync", *ARGS, emulator=emulator, settings=SLOW)
    assert kills >= 4
    assert in_flight_at_kills  # the kills did land while events were on their way

    counts = Counter(str(e["properties"]["event_key"]) for e in emulator.events())
    assert set(counts) == {str(i) for i in range(1, CROWD_EVENTS + 1)}  # none lost
    duplicates = {key for key, n in counts.items() if n > 1}
    assert duplicates <= in_flight_at_kills  # only objects that were in flight at a kill
    reported = project.query(
        "select coalesce(sum(inflight_resent), 0) from analytics_braze.run_log"
    )[0][0]
    assert sum(counts[k] - 1 for k in duplicates) <= reported
    assert project.query("select count(*) from analytics_braze.inflight") == [(0,)]

    before = emulator.stats()["requests"]
    dbt_braze(project, "sync", *ARGS, emulator=emulator, settings=SLOW)
    assert emulator.stats()["requests"] == before
