"""Fault runs: whole-project syncs of thousands of objects while the emulator misbehaves.

A clean run and each faulty run read the same warehouse tables, each with its own state schema
and its own emulator, so their Braze states can be compared object by object. A faulty run
must end in the clean run's state, or stop with an error and get there on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.fixtures.dbt_project import ExampleProject
from tests.reliability.figures import record
from tests.reliability.many import add_many_models, change_many, compare, snapshot

MAX_RUNS = 4


@dataclass
class Fault:
    """Faults set on the emulator for one round, settings for the sync, and for how long."""

    faults: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    first_run_only: bool = False


def _sync_until_done(
    project: ExampleProject, emulator: Emulator, schema: str, fault: Fault
) -> tuple[int, list[str]]:
    """Run sync until it exits 0; return the number of runs and each run's output."""
    outputs = []
    emulator.set_faults(**fault.faults)
    for _ in range(MAX_RUNS):
        done = dbt_braze(
            project,
            "sync",
            emulator=emulator,
            settings={"state_schema": schema, **fault.settings},
            expect=None,
        )
        outputs.append(done.stdout + done.stderr)
        if fault.first_run_only:
            emulator.set_faults(**{k: type(v)() for k, v in fault.faults.items()})
        assert "Traceback" not in outputs[-1], outputs[-1][-3000:]
        if done.returncode == 0:
            break
        # A failed run must say why, in a line a person can act on.
        assert done.returncode == 1, outputs[-1][-3000:]
        assert "not delivered after" in done.stdout or "ERROR" in done.stdout, done.stdout
    else:
        raise AssertionError(f"no clean exit after {MAX_RUNS} runs:\n{outputs[-1][-4000:]}")
    emulator.set_faults(**{k: type(v)() for k, v in fault.faults.items()})
    return len(outputs), outputs


def _faults(emulator: Emulator) -> int:
    stats = emulator.stats()
    return int(
        stats["faults_injected"] + stats["drops_before"] + stats["drops_after"]
        + stats["rate_limited"]
    )  # fmt: skip


def _reported_resends(project: ExampleProject, schema: str) -> int:
    rows = project.query(f"select coalesce(sum(inflight_resent), 0) from {schema}.run_log")
    return int(rows[0][0])


def _fault_run(
    project: ExampleProject,
    emulator_factory: Callable[..., Emulator],
    name: str,
    rounds: list[Fault],
    sizes: tuple[int, int, int],
) -> None:
    """Sync, change the data, sync again: the clean way and under each round's faults."""
    clean_emulator = emulator_factory()
    faulty = emulator_factory(seed=7)
    clean_schema, faulty_schema = f"clean_{name}", f"faulty_{name}"
    runs = 0
    for index, fault in enumerate(rounds):
        if index:
            change_many(project, execute)
        dbt_braze(
            project, "sync", emulator=clean_emulator, settings={"state_schema": clean_schema}
        )
        count, _ = _sync_until_done(project, faulty, faulty_schema, fault)
        if fault.first_run_only:
            assert count == 2, "an outage must fail the run it hits and heal on the next one"
            assert "not delivered after 1 retries" in _rejection_messages(project, faulty_schema)
        runs += count

    clean, other = snapshot(clean_emulator), snapshot(faulty)
    difference = compare(clean, other)
    reported = _reported_resends(project, faulty_schema)
    record(
        f"fault_runs[{project.target}-{name}]",
        runs=runs,
        faults=_faults(faulty),
        objects=other.objects,
        lost=difference.lost,
        duplicates=difference.duplicates,
        reported=reported,
    )
    assert clean.objects > sum(sizes), "the clean run must have sent the generated models"
    assert difference.lost == 0, difference.examples
    assert difference.extra == 0, difference.examples
    # Events and purchases reach Braze twice only when an answer was lost after Braze applied
    # them, and every such resend is reported in the run log.
    assert difference.duplicates <= reported
    if not any(f.faults.get("drop_after_rate") for f in rounds):
        assert difference.duplicates == 0
    # Every state table agrees with Braze: a further run sends nothing.
    before = faulty.stats()["requests"]
    dbt_braze(project, "sync", emulator=faulty, settings={"state_schema": faulty_schema})
    assert faulty.stats()["requests"] == before


def _rejection_messages(project: ExampleProject, schema: str) -> str:
    rows = project.query(f"select distinct message from {schema}.rejections")
    return "\n".join(str(r[0]) for r in rows)


# 500s, 429s, latency and connections dropped before and after Braze applied a request.
STORM = Fault(
    {
        "fail_rate": 0.1,
        "throttle_rate": 0.05,
        "latency_ms": 3,
        "drop_before_rate": 0.04,
        "drop_after_rate": 0.04,
    }
)
# Braze down for a while: the run gives up on what it could not send (exit 1, rejections
# recorded) and the next run sends exactly that.
OUTAGE = Fault({"fail_next": 30}, {"max_retries": 1}, first_run_only=True)


@pytest.fixture(scope="module")
def many_duckdb(example_project_factory: Callable[..., ExampleProject]) -> ExampleProject:
    project = example_project_factory("duckdb", name="many")
    add_many_models(project, *SIZES)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    return project


SIZES = (2000, 2000, 1000)


def test_fault_runs_converge_duckdb(
    many_duckdb: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    _fault_run(many_duckdb, emulator_factory, "storm_then_outage", [STORM, OUTAGE], SIZES)


@pytest.mark.long
@pytest.mark.parametrize("name", ["storm", "outage"])
def test_fault_runs_converge_postgres_long(
    example_project: Callable[..., ExampleProject],
    emulator_factory: Callable[..., Emulator],
    name: str,
) -> None:
    sizes = (20000, 20000, 10000)
    project = example_project("postgres", name="many")
    add_many_models(project, *sizes)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    fault = STORM if name == "storm" else OUTAGE
    harder = Fault(
        {k: v * 2 for k, v in fault.faults.items()}, fault.settings, fault.first_run_only
    )
    _fault_run(project, emulator_factory, name, [harder, harder, harder], sizes)
