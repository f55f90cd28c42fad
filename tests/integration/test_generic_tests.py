"""The dbt_braze generic tests pass on the example models and catch each kind of bad row.

One `dbt build` per warehouse builds the example project plus small models that each add bad
rows to a Braze model. Every bad model carries a test that must fail (storing its failing rows,
so we can check they are the seeded ones) and a control test that must pass, which shows the
failure comes from the bad row and not from SQL the warehouse cannot run.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from tests.fixtures.dbt_project import ExampleProject, ProjectFactory

TOO_LONG = "x" * 300
LONGEST_ALLOWED = "y" * 255
# Two bytes a character in UTF-8: the limit counts characters, so this must pass.
LONGEST_ALLOWED_ACCENTED = "é" * 255

BAD_MODELS = {
    "bad_duplicate_identifier": """
        select customer_id, email from {{ ref('braze_users') }}
        union all
        select customer_id, email from {{ ref('braze_users') }} where customer_id = 7
    """,
    "bad_null_identifier": """
        select customer_id, email from {{ ref('braze_users') }}
        union all
        select null, 'nobody@example.com'
    """,
    "bad_long_string": f"""
        select customer_id, first_name from {{{{ ref('braze_users') }}}}
        union all select 100001, '{TOO_LONG}'
        union all select 100002, '{LONGEST_ALLOWED}'
        union all select 100003, '{LONGEST_ALLOWED_ACCENTED}'
    """,
    "bad_null_time": """
        select order_id, ordered_at from {{ ref('braze_order_events') }}
        union all
        select 100001, null
    """,
    "bad_currency": """
        select order_item_id, cast(currency as {{ dbt.type_string() }}) as currency
        from {{ ref('braze_purchases') }}
        union all select 100001, 'usd'
        union all select 100002, 'US'
        union all select 100003, 'EURO'
        union all select 100004, null
    """,
}

BAD_MODELS_YAML = """
models:
  - name: bad_duplicate_identifier
    columns:
      - name: customer_id
        data_tests:
          - dbt_braze.braze_identifier: {config: {store_failures: true}}
      - name: email
        data_tests: [dbt_braze.braze_string_length]
  - name: bad_null_identifier
    columns:
      - name: customer_id
        data_tests:
          - dbt_braze.braze_identifier: {config: {store_failures: true}}
      - name: email
        data_tests: [dbt_braze.braze_string_length]
  - name: bad_long_string
    columns:
      - name: customer_id
        data_tests: [dbt_braze.braze_identifier]
      - name: first_name
        data_tests:
          - dbt_braze.braze_string_length: {config: {store_failures: true}}
  - name: bad_null_time
    columns:
      - name: order_id
        data_tests: [dbt_braze.braze_identifier]
      - name: ordered_at
        data_tests:
          - dbt_braze.braze_time_present: {config: {store_failures: true}}
  - name: bad_currency
    columns:
      - name: order_item_id
        data_tests: [dbt_braze.braze_identifier]
      - name: currency
        data_tests:
          - dbt_braze.braze_currency_code: {config: {store_failures: true}}
"""

# test node name -> the failing rows it must store (as sets of the values of its first column)
MUST_FAIL: dict[str, set[Any]] = {
    "dbt_braze_braze_identifier_bad_duplicate_identifier_customer_id": {7},
    "dbt_braze_braze_identifier_bad_null_identifier_customer_id": {None},
    "dbt_braze_braze_string_length_bad_long_string_first_name": {TOO_LONG},
    "dbt_braze_braze_time_present_bad_null_time_ordered_at": {100001},
    "dbt_braze_braze_currency_code_bad_currency_currency": {"usd", "US", "EURO", None},
}
MUST_PASS = [
    "dbt_braze_braze_string_length_bad_duplicate_identifier_email",
    "dbt_braze_braze_string_length_bad_null_identifier_email",
    "dbt_braze_braze_identifier_bad_long_string_customer_id",
    "dbt_braze_braze_identifier_bad_null_time_order_id",
    "dbt_braze_braze_identifier_bad_currency_order_item_id",
]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def checked(
    request: pytest.FixtureRequest, example_project_factory: ProjectFactory
) -> tuple[ExampleProject, dict[str, dict[str, Any]]]:
    """A copy with the bad models added, after one `dbt build` (which must fail), and its
    run results by node name."""
    project = example_project_factory(request.param, name=f"generic_tests_{request.param}")
    bad_dir = project.path / "models" / "bad_rows"
    bad_dir.mkdir()
    for name, sql in BAD_MODELS.items():
        (bad_dir / f"{name}.sql").write_text(textwrap.dedent(sql))
    (bad_dir / "_bad_rows.yml").write_text(BAD_MODELS_YAML)

    project.dbt("build", expect_ok=False)
    return project, project.results_by_name()


def test_generic_tests_pass_on_the_example_models(
    checked: tuple[ExampleProject, dict[str, dict[str, Any]]],
) -> None:
    project, results = checked
    ours = [
        node
        for node in project.artifact("manifest.json")["nodes"].values()
        if node.get("test_metadata", {}).get("namespace") == "dbt_braze"
        and node["attached_node"].split(".")[-1].startswith("braze_")
    ]

    statuses = {node["name"]: results[node["name"]]["status"] for node in ours}
    assert set(statuses.values()) == {"pass"}, statuses
    kinds = {node["test_metadata"]["name"] for node in ours}
    assert kinds == {"braze_identifier", "braze_string_length", "braze_time_present",
                     "braze_currency_code"}  # fmt: skip


@pytest.mark.parametrize("test_name", sorted(MUST_FAIL))
def test_generic_test_fails_on_the_seeded_bad_rows(
    checked: tuple[ExampleProject, dict[str, dict[str, Any]]], test_name: str
) -> None:
    project, results = checked
    result = results[test_name]
    stored = project.query(f"select * from {result['relation_name']}")

    assert result["status"] == "fail", result["message"]
    assert result["failures"] == len(MUST_FAIL[test_name])
    assert {row[0] for row in stored} == MUST_FAIL[test_name]


@pytest.mark.parametrize("test_name", MUST_PASS)
def test_control_test_passes_on_the_same_bad_model(
    checked: tuple[ExampleProject, dict[str, dict[str, Any]]], test_name: str
) -> None:
    _, results = checked

    assert results[test_name]["status"] == "pass", results[test_name]["message"]


def test_only_the_seeded_bad_rows_fail_the_build(
    checked: tuple[ExampleProject, dict[str, dict[str, Any]]],
) -> None:
    _, results = checked
    not_passing = {name for name, r in results.items() if r["status"] not in ("pass", "success")}

    assert not_passing == set(MUST_FAIL)
