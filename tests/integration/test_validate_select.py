"""`dbt-braze validate` on good and broken configs, and selection with dbt's own semantics."""

from __future__ import annotations

import json
import re

import pytest

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject, ProjectFactory

BRAZE_MODELS = {
    "model.dbt_braze_example.braze_users",
    "model.dbt_braze_example.braze_order_events",
    "model.dbt_braze_example.braze_purchases",
}


@pytest.fixture(scope="module")
def built(example_project_factory: ProjectFactory) -> ExampleProject:
    project = example_project_factory("duckdb", name="select")
    project.dbt("build")
    (project.path / "selectors.yml").write_text(
        "selectors:\n  - name: activity_only\n    definition:\n"
        "      method: path\n      value: models/activity\n"
    )
    return project


def test_validate_passes_on_the_example_project(built: ExampleProject) -> None:
    out = dbt_braze(built, "validate")
    assert "3 Braze models valid against duckdb" in out.stdout


def test_validate_reports_every_problem_with_model_key_and_fix(
    example_project: ProjectFactory,
) -> None:
    project = example_project("duckdb")
    users = project.path / "models" / "users" / "_braze_users.yml"
    users.write_text(users.read_text().replace("first_name: first_name", "frist_name: first_name"))
    events = project.path / "models" / "activity" / "_braze_activity.yml"
    text = events.read_text()
    text = text.replace(
        "event_id: order_id", "event_id: order_id\n          email: customer_id", 1
    )
    text = text.replace("purchase_id: order_item_id", "purchase_id: order_item_id\n"
                        "          currencyy: USD", 1)  # fmt: skip
    events.write_text(text)
    project.dbt("build")

    out = dbt_braze(project, "validate", expect=2)
    lines = [line for line in out.stdout.splitlines() if "meta.braze." in line]
    misspelt = [line for line in lines if "frist_name" in line]
    assert misspelt and "model braze_users" in misspelt[0]
    assert "meta.braze.attributes.frist_name" in misspelt[0]
    assert "Did you mean `first_name`?" in misspelt[0]
    two_ids = [line for line in lines if "exactly one identifier" in line]
    assert two_ids and "model braze_order_events" in two_ids[0]
    assert "found external_id, email" in two_ids[0] and "Keep one of" in two_ids[0]
    unknown = [line for line in lines if "currencyy" in line]
    assert unknown and "model braze_purchases" in unknown[0]
    assert "unknown key" in unknown[0] and "Did you mean `currency`?" in unknown[0]
    assert "Traceback" not in out.stdout + out.stderr


def _dbt_ls(project: ExampleProject, args: list[str]) -> set[str]:
    out = project.dbt(
        "ls", "--resource-type", "model", "--output", "json", "--output-keys", "unique_id",
        "--quiet", *args,
    )  # fmt: skip
    return {json.loads(line)["unique_id"] for line in out.stdout.splitlines() if line.strip()}


def _planned(project: ExampleProject, args: list[str]) -> set[str]:
    out = dbt_braze(project, "plan", "--log-format", "json", *args)
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {e["data"]["model"] for e in events if e["info"]["name"] == "ModelSynced"}


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "braze_users"],
        ["-s", "tag:braze"],
        ["-s", "path:models/activity"],
        ["-s", "+braze_users"],
        ["-s", "stg_orders+"],
        ["-s", "tag:braze", "--exclude", "braze_purchases"],
        ["-s", "stg_customers+", "stg_order_items+", "--exclude", "path:models/users"],
        ["--selector", "activity_only"],
    ],
    ids=lambda args: " ".join(args),
)
def test_selection_matches_dbt_ls(built: ExampleProject, args: list[str]) -> None:
    expected = _dbt_ls(built, args) & BRAZE_MODELS
    assert expected, "each case should select at least one Braze model"
    assert _planned(built, args) == expected


def _synced(project: ExampleProject, args: list[str], emulator: Emulator, schema: str) -> set[str]:
    """Run the real sync with `args` into its own state schema; the models it reported synced."""
    out = dbt_braze(
        project, "sync", "--log-format", "json", *args,
        emulator=emulator, settings={"state_schema": schema},
    )  # fmt: skip
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert "Traceback" not in out.stdout + out.stderr
    return {e["data"]["model"] for e in events if e["info"]["name"] == "ModelSynced"}


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "path:models/activity"],
        ["-s", "stg_order_items+"],
        ["-s", "tag:braze", "--exclude", "braze_purchases"],
    ],
    ids=lambda args: " ".join(args),
)
def test_sync_sends_exactly_the_models_dbt_ls_selects(
    built: ExampleProject, emulator: Emulator, args: list[str]
) -> None:
    expected = _dbt_ls(built, args) & BRAZE_MODELS
    assert expected and expected != BRAZE_MODELS, "each case should select some Braze models"
    schema = "analytics_braze_" + re.sub(r"\W+", "_", " ".join(args)).strip("_")

    assert _synced(built, args, emulator, schema) == expected
    # The run log holds one successful run of each selected model and of nothing else.
    runs = built.query(f"select model_id, status, run_id from {schema}.run_log")
    assert {model for model, _, _ in runs} == expected, runs
    assert len(runs) == len(expected) and {status for _, status, _ in runs} == {"success"}, runs
    assert len({run_id for _, _, run_id in runs}) == 1, runs
    # And Braze received exactly those models' rows: every row of a selected model, none of
    # the others (events and purchases create bare profiles; only braze_users sets email).
    rows = {
        model: built.query(f"select count(*) from analytics.{model.rsplit('.', 1)[-1]}")[0][0]
        for model in BRAZE_MODELS
    }
    users = "model.dbt_braze_example.braze_users"
    events = "model.dbt_braze_example.braze_order_events"
    purchases = "model.dbt_braze_example.braze_purchases"
    with_attributes = [u for u in emulator.users() if "email" in u]
    assert len(with_attributes) == (rows[users] if users in expected else 0)
    assert len(emulator.events()) == (rows[events] if events in expected else 0)
    assert len(emulator.purchases()) == (rows[purchases] if purchases in expected else 0)
