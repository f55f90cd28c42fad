"""The warehouse connection cut mid-sync (pg_terminate_backend): a clear error, no traceback,
and the next run converges on the state of a clean run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject
from tests.reliability.figures import record
from tests.reliability.live import finish, start_sync, wait_for
from tests.reliability.many import add_many_models, compare, snapshot

SIZES = (2000, 2000, 1000)


def _terminate_syncs(project: ExampleProject) -> int:
    assert project.pg is not None
    connection = project.pg.connect()
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where application_name = 'dbt-braze' and pid <> pg_backend_pid()"
        )
        killed = len(cursor.fetchall())
        connection.commit()
    return killed


def _cut_run(
    project: ExampleProject, emulator_factory: Callable[..., Emulator], cuts: int, sizes: tuple
) -> None:
    clean, cut = emulator_factory(), emulator_factory(latency_ms=15)
    dbt_braze(project, "sync", emulator=clean, settings={"state_schema": "clean_braze"})
    runs = killed = 0
    for index in range(cuts):
        process = start_sync(project, cut, {"state_schema": "cut_braze"})
        runs += 1
        seen = cut.stats()["requests"]
        # Cut when the sync is busy sending: at a different depth on each round.
        target = seen + 5 + 10 * index
        wait_for(lambda: cut.stats()["requests"] > target, "requests", process)  # noqa: B023
        killed += _terminate_syncs(project)
        code, output = finish(process)
        assert code == 2, output[-4000:]
        assert "Traceback" not in output and "Internal error" not in output, output[-4000:]
        assert "WarehouseError" in output or "Postgres" in output, output[-4000:]
    cut.set_faults(latency_ms=0)
    dbt_braze(project, "sync", emulator=cut, settings={"state_schema": "cut_braze"})
    runs += 1

    difference = compare(snapshot(clean), snapshot(cut))
    reported = project.query("select coalesce(sum(inflight_resent), 0) from cut_braze.run_log")
    record(
        f"warehouse_cut[{project.target}]",
        runs=runs,
        faults=killed,
        objects=snapshot(cut).objects,
        lost=difference.lost,
        duplicates=difference.duplicates,
        reported=int(reported[0][0]),
    )
    assert killed >= cuts
    assert difference.lost == 0 and difference.extra == 0, difference.examples
    assert difference.duplicates <= int(reported[0][0])


def test_warehouse_cut_mid_sync_converges(
    example_project: Callable[..., ExampleProject], emulator_factory: Callable[..., Emulator]
) -> None:
    project = example_project("postgres", name="cut")
    add_many_models(project, *SIZES)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    _cut_run(project, emulator_factory, 2, SIZES)


@pytest.mark.long
def test_warehouse_cut_many_times_long(
    example_project: Callable[..., ExampleProject], emulator_factory: Callable[..., Emulator]
) -> None:
    sizes = (20000, 20000, 10000)
    project = example_project("postgres", name="cut")
    add_many_models(project, *sizes)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    _cut_run(project, emulator_factory, 6, sizes)
