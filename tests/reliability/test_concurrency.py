"""One writer per model: a second sync of a model being synced exits 2 at once and touches
nothing; different models synced in parallel with --threads end as a sequential sync does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject
from tests.reliability.figures import record
from tests.reliability.live import finish, start_sync, wait_for
from tests.reliability.many import add_many_models, compare, snapshot

SIZES = (2000, 1500, 1000)


@pytest.fixture(scope="module")
def many_postgres(example_project_factory: Callable[..., ExampleProject]) -> ExampleProject:
    project = example_project_factory("postgres", name="race")
    add_many_models(project, *SIZES)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    return project


def test_second_sync_of_a_busy_model_exits_at_once(
    many_postgres: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    project = many_postgres
    emulator = emulator_factory(latency_ms=1000)
    settings = {"state_schema": "race_braze", "concurrency": 1}
    first = start_sync(project, emulator, settings, "-s", "braze_many_users")
    wait_for(lambda: emulator.stats()["requests"] >= 1, "the first sync to send", first)

    second = dbt_braze(
        project, "sync", "-s", "braze_many_users", emulator=emulator, settings=settings, expect=2
    )
    # The first sync was still running when the second one gave up.
    assert first.poll() is None, "the first sync ended before the race was tested"
    assert "another dbt-braze sync of braze_many_users is running" in second.stdout
    assert "Traceback" not in second.stdout + second.stderr
    emulator.set_faults(latency_ms=0)
    code, output = finish(first)
    assert code == 0, output[-3000:]

    state = snapshot(emulator)
    assert len(state.users) == SIZES[0]
    assert emulator.stats()["objects"] == SIZES[0], "every user was sent exactly once"
    rows = project.query(
        "select status, count(*) from race_braze.run_log group by status order by status"
    )
    record(
        "concurrency[postgres-same-model]",
        runs=2,
        objects=state.objects,
        lost=SIZES[0] - len(state.users),
        duplicates=emulator.stats()["objects"] - SIZES[0],
        reported=0,
    )
    assert ("success", 1) in rows, rows


def test_threads_sync_models_in_parallel_like_a_sequential_run(
    many_postgres: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    project = many_postgres
    sequential, parallel = emulator_factory(), emulator_factory(latency_ms=5)
    dbt_braze(project, "sync", emulator=sequential, settings={"state_schema": "seq_braze"})
    out = dbt_braze(
        project,
        "sync",
        "--threads",
        "4",
        emulator=parallel,
        settings={"state_schema": "par_braze"},
    )
    assert "OK=6" in out.stdout, out.stdout
    difference = compare(snapshot(sequential), snapshot(parallel))
    record(
        "concurrency[postgres-threads-4]",
        runs=1,
        objects=snapshot(parallel).objects,
        lost=difference.lost,
        duplicates=difference.duplicates,
        reported=0,
    )
    assert difference.lost == difference.duplicates == difference.extra == 0, difference.examples
    logged = project.query("select count(*) from par_braze.run_log where status = 'success'")
    assert logged == [(6,)]
