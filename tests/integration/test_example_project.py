"""The example project installs the dbt_braze package and builds on DuckDB and on Postgres."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.dbt_project import EXAMPLE_PROJECT, REPO_ROOT, ExampleProject, ProjectFactory

BRAZE_MODELS = {"braze_users", "braze_order_events", "braze_purchases"}


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(
    request: pytest.FixtureRequest, example_project_factory: ProjectFactory
) -> ExampleProject:
    """A copy on which `dbt deps` and `dbt build` ran, once per warehouse for this module."""
    project = example_project_factory(request.param, deps=False, name=f"built_{request.param}")
    project.dbt("deps")
    project.dbt("build")
    return project


def test_deps_links_the_package_to_this_checkout(built: ExampleProject) -> None:
    installed = built.path / "dbt_packages" / "dbt_braze"

    assert installed.resolve() == REPO_ROOT.resolve()
    assert (installed / "macros" / "tests" / "braze_identifier.sql").is_file()


def test_build_runs_every_node_and_all_pass(built: ExampleProject) -> None:
    results = built.artifact("run_results.json")["results"]
    by_type: dict[str, int] = defaultdict(int)
    for result in results:
        by_type[result["unique_id"].split(".")[0]] += 1

    assert {r["status"] for r in results} <= {"success", "pass"}, results
    assert by_type["seed"] == 3
    assert by_type["model"] == 6
    assert by_type["test"] >= 15


def test_braze_models_have_one_row_per_entity(built: ExampleProject) -> None:
    counts = {
        name: built.query(f"select count(*) from analytics.{name}")[0][0]
        for name in sorted(BRAZE_MODELS)
    }

    assert counts == {"braze_order_events": 500, "braze_purchases": 900, "braze_users": 200}


def test_users_carry_their_order_totals(built: ExampleProject) -> None:
    expected_ltv: dict[int, Decimal] = defaultdict(Decimal)
    for order in _seed("orders"):
        expected_ltv[int(order["customer_id"])] += Decimal(order["amount"])

    rows = built.query(
        "select customer_id, lifetime_value, order_count from analytics.braze_users"
    )
    ltv = {int(customer_id): Decimal(str(value)) for customer_id, value, _ in rows}
    without_orders = [customer_id for customer_id, _, count in rows if count == 0]

    assert {k: v for k, v in ltv.items() if v} == dict(expected_ltv)
    assert len(without_orders) == 200 - len(expected_ltv) > 0


def test_braze_models_declare_their_mapping_in_config_meta(built: ExampleProject) -> None:
    nodes = built.artifact("manifest.json")["nodes"]
    braze_nodes = {
        node["name"]: node
        for node in nodes.values()
        if node["resource_type"] == "model" and "braze" in node["config"].get("meta", {})
    }

    assert set(braze_nodes) == BRAZE_MODELS
    types = {name: node["config"]["meta"]["braze"]["type"] for name, node in braze_nodes.items()}
    assert types == {"braze_users": "users", "braze_order_events": "events",
                     "braze_purchases": "purchases"}  # fmt: skip
    for node in braze_nodes.values():
        assert "braze" in node["tags"]
        assert node["config"]["materialized"] == "table"
    assert braze_nodes["braze_users"]["original_file_path"].startswith("models/users/")


# Selection does not depend on the warehouse: checked once, on DuckDB.
@pytest.mark.parametrize("built", ["duckdb"], indirect=True)
def test_graph_selectors_reach_staging_models_and_seeds(built: ExampleProject) -> None:
    listed = built.dbt(
        "ls", "-s", "+braze_users", "--resource-type", "model", "--resource-type", "seed",
        "--output", "name", "--quiet",
    ).stdout.split()  # fmt: skip

    assert set(listed) == {"customers", "orders", "stg_customers", "stg_orders", "braze_users"}


def _seed(name: str) -> list[dict[str, str]]:
    with open(Path(EXAMPLE_PROJECT, "seeds", f"{name}.csv"), newline="") as handle:
        return list(csv.DictReader(handle))
