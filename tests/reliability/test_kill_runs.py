"""Kill runs: SIGKILL whole-project syncs at random points, then compare with a clean run.

One project holds a users model whose vanished users are deleted (`/users/delete`), an events
model and a purchases model. The crashed side is killed again and again, each time after a
random number of Braze requests (seeded; the seed is in every failure message and in the
figures), until a run finishes on its own; then the data changes upstream (attributes,
users removed, new events and purchases) and the same happens again. Nothing may be lost;
an event or purchase may reach Braze twice only if it was in flight at a kill, and the run log
must have reported it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.crash import SLOW, kill_at
from tests.fixtures.dbt_project import ExampleProject
from tests.reliability.figures import record
from tests.reliability.many import add_many_models, change_many, compare, snapshot

SIZES = (1000, 1000, 500)  # users, events, purchases: about 35 requests for a first sync
MAX_KILLS = 8  # a phase's kills stop here even if every run was killed; one more run ends it
CRASHED = {**SLOW, "state_schema": "crashed_braze"}
CLEAN = {"state_schema": "clean_braze"}


@dataclass
class Kills:
    seed: int
    kills: int = 0
    runs: int = 0
    points: list[int] = field(default_factory=list)
    # Event and purchase keys in the journal after each kill, added up: a key in flight at
    # two kills may be resent twice.
    in_flight: int = 0


def _in_flight(project: ExampleProject) -> int:
    schema = CRASHED["state_schema"]
    exists = project.query(
        "select count(*) from information_schema.tables "
        f"where table_schema = '{schema}' and table_name = 'inflight'"
    )
    if not exists[0][0]:
        return 0  # killed before the state schema was made
    return int(project.query(f"select count(*) from {schema}.inflight")[0][0])


def _killed_until_done(
    project: ExampleProject, emulator: Emulator, rng: random.Random, kills: Kills
) -> None:
    """Kill syncs at random request counts until one finishes, then sync once more."""
    for _ in range(MAX_KILLS):
        point = rng.randint(0, 12)
        kills.runs += 1
        if not kill_at(project, emulator, (), CRASHED, point, seconds=2.5):
            break
        kills.kills += 1
        kills.points.append(point)
        kills.in_flight += _in_flight(project)
    dbt_braze(project, "sync", emulator=emulator, settings=CRASHED)
    kills.runs += 1


def _reported(project: ExampleProject) -> int:
    schema = CRASHED["state_schema"]
    rows = project.query(f"select coalesce(sum(inflight_resent), 0) from {schema}.run_log")
    return int(rows[0][0])


def _kill_run(
    project: ExampleProject, emulator_factory: Callable[..., Emulator], seed: int
) -> None:
    rng = random.Random(seed)
    clean, crashed = emulator_factory(), emulator_factory()
    kills = Kills(seed)

    dbt_braze(project, "sync", emulator=clean, settings=CLEAN)
    _killed_until_done(project, crashed, rng, kills)
    first_kills = kills.kills
    change_many(project, execute)
    dbt_braze(project, "sync", emulator=clean, settings=CLEAN)
    _killed_until_done(project, crashed, rng, kills)

    before, after = snapshot(clean), snapshot(crashed)
    difference = compare(before, after)
    reported = _reported(project)
    record(
        f"kill_runs[{project.target}]",
        runs=kills.runs,
        faults=f"{kills.kills} kills",
        objects=after.objects,
        lost=difference.lost,
        duplicates=difference.duplicates,
        reported=reported,
        seed=seed,
    )
    context = f"{kills} {difference.examples}"
    assert first_kills >= 2, context  # the first sync is about 35 requests, killed at <= 12
    assert clean.stats()["users_deleted"] == 3, "the change removes three users"
    assert {"u2", "u4", "u6"}.isdisjoint(after.users), context
    assert difference.lost == 0, context
    assert difference.extra == 0, context
    # Only what was in flight at a kill can be doubled, and the run log said so.
    assert difference.duplicates <= kills.in_flight, context
    assert difference.duplicates <= reported, context
    assert project.query(f"select count(*) from {CRASHED['state_schema']}.inflight") == [(0,)]

    # Converged: state and Braze agree, so a further sync sends nothing.
    requests = crashed.stats()["requests"]
    dbt_braze(project, "sync", emulator=crashed, settings=CRASHED)
    assert crashed.stats()["requests"] == requests


def test_kill_runs_lose_nothing(
    warehouse_project: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    project = warehouse_project
    add_many_models(project, *SIZES)
    users = project.path / "models" / "many" / "braze_many_users.sql"
    users.write_text(users.read_text().replace("'on_delete': 'unset'", "'on_delete': 'delete'"))
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    seed = int(os.environ.get("DBT_BRAZE_KILL_SEED") or random.SystemRandom().randrange(10**6))
    _kill_run(project, emulator_factory, seed)
