"""The opt-in on-run-end hook on a copy of the example project, and the sync skipping on it.

Each copy switches the hook on in its own dbt_project.yml, as a user would; the example
project itself is left as it is.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute, profile
from tests.fixtures.dbt_project import WAREHOUSES, ExampleProject, ProjectFactory

HOOK = "{{ dbt_braze.on_run_end(results) }}"
REBUILDS = "analytics_braze.rebuilds"
BRAZE_MODELS = {
    "model.dbt_braze_example.braze_users",
    "model.dbt_braze_example.braze_order_events",
    "model.dbt_braze_example.braze_purchases",
}
USERS_MODEL = "model.dbt_braze_example.braze_users"


def switch_hook_on(project: ExampleProject) -> None:
    """Set the copy's on-run-end to the dbt_braze hook alone, as a user's project would."""
    path = project.path / "dbt_project.yml"
    config = yaml.safe_load(path.read_text())
    config["on-run-end"] = [HOOK]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def rebuild_rows(project: ExampleProject, invocation_id: str) -> set[tuple[Any, ...]]:
    rows = project.query(
        f"select model_id, relation_name, status from {REBUILDS} "
        f"where invocation_id = '{invocation_id}'"
    )
    return set(rows)


@pytest.fixture(params=WAREHOUSES)
def hooked(example_project: ProjectFactory, request: pytest.FixtureRequest) -> ExampleProject:
    """A fresh copy with the hook on, after `dbt deps` and `dbt build`."""
    project = example_project(request.param)
    switch_hook_on(project)
    project.dbt("build")
    return project


def test_sync_skips_models_not_rebuilt_and_diffs_the_one_rebuilt(
    hooked: ExampleProject, emulator: Emulator
) -> None:
    project = hooked
    build_id = project.artifact("run_results.json")["metadata"]["invocation_id"]
    relations = {
        node["unique_id"]: node["relation_name"]
        for node in project.artifact("manifest.json")["nodes"].values()
        if node["unique_id"] in BRAZE_MODELS
    }

    # The build recorded its invocation and each Braze model it rebuilt, nothing else.
    recorded = rebuild_rows(project, build_id)
    assert recorded == {(None, None, "invocation")} | {
        (model_id, relation, "success") for model_id, relation in relations.items()
    }

    first = dbt_braze(project, "sync", emulator=emulator)
    assert "OK=3" in first.stdout and "SKIP=0" in first.stdout, first.stdout
    assert emulator.stats()["requests"] > 0

    # Nothing rebuilt since: every model is skipped, and Braze hears nothing.
    before = emulator.stats()["requests"]
    second = dbt_braze(project, "sync", emulator=emulator)
    assert "OK=0" in second.stdout and "SKIP=3" in second.stdout, second.stdout
    assert second.stdout.count("not rebuilt by dbt since its last sync") == 3
    assert emulator.stats()["requests"] == before

    # One upstream change, one model rebuilt: only that model is diffed and sent.
    execute(project, "update analytics.customers set first_name = 'Rebuilt' where customer_id = 1")
    project.dbt("run", "-s", "braze_users")
    run_id = project.artifact("run_results.json")["metadata"]["invocation_id"]
    assert rebuild_rows(project, run_id) == {
        (None, None, "invocation"),
        (USERS_MODEL, relations[USERS_MODEL], "success"),
    }
    third = dbt_braze(project, "sync", emulator=emulator)
    assert "OK=1" in third.stdout and "SKIP=2" in third.stdout, third.stdout
    assert "changed=1" in third.stdout
    assert emulator.stats()["requests"] == before + 1
    assert profile(emulator, "1")["first_name"] == "Rebuilt"

    # The run log has a second row for the users model only; skips leave no row.
    runs = dict(
        project.query("select model_id, count(*) from analytics_braze.run_log group by model_id")
    )
    assert runs == {model_id: 2 if model_id == USERS_MODEL else 1 for model_id in BRAZE_MODELS}

    # --all-models overrides the skip.
    fourth = dbt_braze(project, "sync", "--all-models", emulator=emulator)
    assert "OK=3" in fourth.stdout and "SKIP=0" in fourth.stdout, fourth.stdout
    assert emulator.stats()["requests"] == before + 1  # diffed, and nothing had changed


def test_hook_records_nothing_when_switched_off_by_its_var(
    example_project: ProjectFactory,
) -> None:
    project = example_project("duckdb")
    switch_hook_on(project)

    project.dbt("seed", "-s", "customers", "--vars", "{dbt_braze_record_rebuilds: false}")

    # Left on, the same seed would create the state schema (as every test above shows).
    assert project.query(
        "select count(*) from information_schema.schemata where schema_name = 'analytics_braze'"
    ) == [(0,)]
