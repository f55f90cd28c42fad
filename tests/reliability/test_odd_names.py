"""Model and column names with capitals, spaces, quotes and SQL in them: synced correctly on
DuckDB and Postgres, and nothing in them ever runs as SQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute, profile
from tests.fixtures.dbt_project import WAREHOUSES, ExampleProject

# dbt itself cannot build a relation with a double quote in its name; everything else goes.
ALIAS = "Odd Users'; drop table analytics.braze_users; --"
INJECTION = "x'); drop table analytics.braze_users; --"
USERS_SQL = """
{{ config(materialized='table', alias="Odd Users'; drop table analytics.braze_users; --",
  meta={'braze': {'type': 'users', 'external_id': 'Customer ID', 'on_delete': 'unset',
    'attributes': {'First "Nick" Name': 'nickname',
                   'select 1; drop table braze_users; --': 'sneaky',
                   'ÜberScore': 'uber_score', 'UPPER Case': 'upper_case'}}}) }}
select
    cast(customer_id as varchar) as "Customer ID",
    first_name as "First ""Nick"" Name",
    'x''); drop table analytics.braze_users; --' as "select 1; drop table braze_users; --",
    customer_id * 2 as "ÜberScore",
    upper(last_name) as "UPPER Case"
from {{ ref('stg_customers') }}
where customer_id <= 20
"""
ODD_ATTRIBUTES = ("nickname", "sneaky", "uber_score", "upper_case")
EVENTS_SQL = """
{{ config(materialized='table', alias='Odd Events #2',
  meta={'braze': {'type': 'events', 'external_id': 'Who', 'event_id': 'Order ID',
    'name_column': 'What"s it', 'time': 'When?', 'properties': {'Amount $': 'amount'}}}) }}
select
    cast(customer_id as varchar) as "Who",
    order_id as "Order ID",
    'order ''placed''; --' as "What""s it",
    ordered_at as "When?",
    amount as "Amount $"
from {{ ref('stg_orders') }}
where order_id <= 30
"""


@pytest.fixture(scope="module", params=WAREHOUSES)
def odd_project(
    example_project_factory: Callable[..., ExampleProject], request: pytest.FixtureRequest
) -> ExampleProject:
    project = example_project_factory(request.param, name="odd")
    folder = project.path / "models" / "odd"
    folder.mkdir()
    (folder / "Braze_Odd_Users.sql").write_text(USERS_SQL)
    (folder / "Braze_Odd_Events.sql").write_text(EVENTS_SQL)
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    return project


def test_odd_names_sync_correctly_and_never_run_as_sql(
    odd_project: ExampleProject, emulator: Emulator
) -> None:
    project = odd_project
    relation = 'analytics."' + ALIAS.replace('"', '""') + '"'
    plan = dbt_braze(project, "plan")
    assert "PLANNED users model Braze_Odd_Users" in plan.stdout, plan.stdout

    dbt_braze(project, "sync", emulator=emulator)
    name, last = project.query(
        "select first_name, upper(last_name) from analytics.stg_customers where customer_id = 7"
    )[0]
    mine = {k: v for k, v in profile(emulator, "7").items() if k in ODD_ATTRIBUTES}
    assert mine == {"nickname": name, "sneaky": INJECTION, "uber_score": 14, "upper_case": last}
    events = [e for e in emulator.events() if e["name"] == "order 'placed'; --"]
    assert len(events) == 30 and all("amount" in e["properties"] for e in events)
    # Nothing named in a model ran as SQL: the tables the names try to drop are all there.
    assert project.query("select count(*) from analytics.braze_users") == [(200,)]
    assert project.query(f"select count(*) from {relation}") == [(20,)]

    # A change in an oddly named column is found and sent alone.
    execute(project, f'update {relation} set "ÜberScore" = 1000 where "Customer ID" = \'7\'')
    before = emulator.stats()
    out = dbt_braze(project, "sync", emulator=emulator)
    assert emulator.stats()["objects"] - before["objects"] == 1, out.stdout
    assert profile(emulator, "7")["uber_score"] == 1000
    assert len(emulator.events()) == 500 + 30, "no event was sent twice"
