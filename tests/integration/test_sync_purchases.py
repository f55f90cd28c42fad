"""The purchases sync end to end: real dbt project, real warehouse, real emulator over HTTP."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.fixtures.dbt_project import ExampleProject, build_only

PURCHASES = "analytics.braze_purchases"
LEDGER = "analytics_braze.ledger__braze_purchases"
COLUMNS = "order_item_id, customer_id, product_name, price, currency, quantity, ordered_at"


def _canonical(purchase: dict[str, Any]) -> str:
    return json.dumps(purchase, sort_keys=True)


def _stored(emulator: Emulator) -> Counter[str]:
    """Purchases the emulator holds (without the braze_id it assigned), as a multiset."""
    return Counter(
        _canonical({k: v for k, v in p.items() if k != "braze_id"}) for p in emulator.purchases()
    )


def _expected(project: ExampleProject, where: str) -> Counter[str]:
    """The purchase objects Braze should hold for the model's rows matching `where`."""
    rows = project.query(
        "select customer_id, product_name, price, currency, quantity, ordered_at "
        f"from {PURCHASES} where {where}"
    )
    expected: Counter[str] = Counter()
    for customer_id, product, price, currency, quantity, ordered_at in rows:
        purchase = {
            "external_id": str(customer_id),
            "product_id": product,
            "price": int(price) if price == int(price) else float(price),
            "currency": currency,
            "quantity": quantity,
            "time": ordered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        expected[_canonical(purchase)] += 1
    return expected


def test_purchases_sent_once_invalid_rows_recorded(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    build_only(project, "activity/braze_purchases.sql")
    # Invalid rows, all dated 2030 so that none of them can hide among the real purchases.
    execute(
        project,
        f"insert into {PURCHASES} ({COLUMNS}) values "
        "(901, 1, 'Tent', null, 'EUR', 1, '2030-01-01 00:00:00'), "  # null price
        "(902, 2, null, 10, 'EUR', 1, '2030-01-02 00:00:00'), "  # null product
        "(903, 3, 'Tent', 10, null, 1, '2030-01-03 00:00:00'), "  # null currency
        "(904, 4, 'Tent', 10, 'EUR', 0, '2030-01-04 00:00:00'), "  # quantity below 1
        "(905, 5, 'Tent', 10, 'EUR', 101, '2030-01-05 00:00:00'), "  # quantity above 100
        "(906, 6, 'Tent', 10, 'EUR', 100, '2030-01-06 00:00:00')",  # quantity 100: valid
    )

    # plan: counts and a sample, nothing sent, and no state schema created.
    out = dbt_braze(project, "plan")
    assert "new=901 " in out.stdout and "invalid=5" in out.stdout
    assert "sample: " in out.stdout and '"product_id": ' in out.stdout
    assert emulator.stats()["requests"] == 0
    braze_schemas = project.query(
        "select schema_name from information_schema.schemata where schema_name like '%braze%'"
    )
    assert braze_schemas == []

    out = dbt_braze(project, "sync", emulator=emulator, expect=1)
    assert "new=901 " in out.stdout and "invalid=5 " in out.stdout and "rejected=0" in out.stdout
    stats = emulator.stats()
    assert stats["requests"] == 13  # 901 purchases, 75 a request
    assert _stored(emulator) == _expected(project, "order_item_id <= 900 or order_item_id = 906")
    rejections = project.query(
        "select dbt_braze__key, reason, message from analytics_braze.rejections "
        "order by dbt_braze__key"
    )
    assert [r[:2] for r in rejections] == [(str(key), "invalid") for key in range(901, 906)]
    messages = dict((r[0], r[2]) for r in rejections)
    assert "price" in messages["901"] and "product_id" in messages["902"]
    assert "currency" in messages["903"]
    assert "quantity" in messages["904"] and "quantity" in messages["905"]
    assert project.query(f"select count(*) from {LEDGER}") == [(901,)]

    # A new order line (and the invalid rows gone): it alone goes, in one request; no
    # purchase is sent twice.
    execute(project, f"delete from {PURCHASES} where order_item_id between 901 and 905")
    execute(
        project,
        f"insert into {PURCHASES} ({COLUMNS}) values "
        "(907, 8, 'Headlamp', 34.5, 'usd', null, '2025-02-03 04:05:06')",
    )
    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=1 " in out.stdout and "invalid=0 " in out.stdout
    assert emulator.stats()["requests"] == stats["requests"] + 1
    purchases = emulator.purchases()
    assert len(purchases) == 902
    assert {k: v for k, v in purchases[-1].items() if k != "braze_id"} == {
        "external_id": "8",
        "product_id": "Headlamp",
        "price": 34.5,
        "currency": "USD",
        "time": "2025-02-03T04:05:06Z",
    }
