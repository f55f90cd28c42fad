"""A model whose last dbt run failed is skipped by the sync, with a warning; others sync."""

from __future__ import annotations

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject
from tests.integration.test_rebuild_hook import switch_hook_on

PURCHASES_MODEL = "model.dbt_braze_example.braze_purchases"
# A configured state schema, given to dbt and dbt-braze alike: both must write there.
STATE_SCHEMA = "braze_state"


def test_model_whose_build_failed_is_skipped_with_a_warning(
    duckdb_project: ExampleProject, emulator: Emulator
) -> None:
    project = duckdb_project
    switch_hook_on(project)
    sql = project.path / "models" / "activity" / "braze_purchases.sql"
    sql.write_text("select * from {{ ref('stg_order_items') }} where no_such_column = 1\n")

    project.dbt(
        "build", "--vars", f"{{dbt_braze: {{state_schema: {STATE_SCHEMA}}}}}", expect_ok=False
    )
    assert project.results_by_name()["braze_purchases"]["status"] == "error"

    out = dbt_braze(project, "sync", emulator=emulator, settings={"state_schema": STATE_SCHEMA})
    lines = [line for line in out.stdout.splitlines() if "braze_purchases" in line]
    assert any("SKIP" in line and "ended with status error" in line for line in lines), lines
    assert "OK=2" in out.stdout and "SKIP=1" in out.stdout, out.stdout

    # The others reached Braze; nothing of the failed model did, and it left no state.
    assert emulator.stats()["users"] == 200
    assert len(emulator.events()) == 500
    assert emulator.purchases() == []
    logged = {row[0] for row in project.query(f"select model_id from {STATE_SCHEMA}.run_log")}
    assert PURCHASES_MODEL not in logged and len(logged) == 2
    # The hook recorded the two models that built, not the one that failed.
    rebuilt = project.query(
        f"select model_id from {STATE_SCHEMA}.rebuilds where status = 'success'"
    )
    assert {row[0] for row in rebuilt} == logged
