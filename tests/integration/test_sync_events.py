"""The events sync end to end: real dbt project, real warehouse, real emulator over HTTP."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.fixtures.dbt_project import ExampleProject

EVENTS = "analytics.braze_order_events"
LEDGER = "analytics_braze.ledger__braze_order_events"
SELECT = ("-s", "braze_order_events")


def _stored(emulator: Emulator) -> Counter[str]:
    """Events the emulator holds (without the braze_id it assigned), as a multiset."""
    return Counter(
        _canonical({k: v for k, v in e.items() if k != "braze_id"}) for e in emulator.events()
    )


def _canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True)


def _expected(project: ExampleProject, where: str) -> Counter[str]:
    """The event objects Braze should hold for the model's rows matching `where`."""
    rows = project.query(
        f"select customer_id, ordered_at, status, amount from {EVENTS} where {where}"
    )
    expected: Counter[str] = Counter()
    for customer_id, ordered_at, status, amount in rows:
        event: dict[str, Any] = {
            "external_id": str(customer_id),
            "name": "order_placed",
            "time": ordered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        properties = {"status": status, "amount": _number(amount)}
        event["properties"] = {k: v for k, v in properties.items() if v is not None}
        expected[_canonical(event)] += 1
    return expected


def _number(value: Any) -> Any:
    return None if value is None else int(value) if value == int(value) else float(value)


def test_events_sent_once_and_only_new_ones(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    project.dbt("build", "-s", "+braze_order_events")

    # plan: counts and a sample, nothing sent, and no state schema created.
    out = dbt_braze(project, "plan", *SELECT)
    assert "new=500 " in out.stdout and "invalid=0" in out.stdout
    assert "sample: " in out.stdout and '"name": "order_placed"' in out.stdout
    assert emulator.stats()["requests"] == 0
    assert _schemas(project) == []

    dbt_braze(project, "sync", *SELECT, emulator=emulator)
    stats = emulator.stats()
    assert stats["requests"] == 7  # 500 events, 75 a request
    assert len(emulator.events()) == 500
    assert _stored(emulator) == _expected(project, "true")
    assert project.query(f"select count(*) from {LEDGER}") == [(500,)]

    # Nothing new: not a single request, and no event twice.
    out = dbt_braze(project, "sync", *SELECT, emulator=emulator)
    assert "new=0 " in out.stdout
    assert emulator.stats()["requests"] == stats["requests"]
    assert len(emulator.events()) == 500

    # A new order: it alone is sent.
    execute(
        project,
        f"insert into {EVENTS} values (501, 7, '2025-03-01 12:30:00', 'completed', 12.5)",
    )
    out = dbt_braze(project, "sync", *SELECT, emulator=emulator)
    assert "new=1 " in out.stdout
    assert emulator.stats()["requests"] == stats["requests"] + 1
    events = emulator.events()
    assert len(events) == 501
    assert {k: v for k, v in events[-1].items() if k != "braze_id"} == {
        "external_id": "7",
        "name": "order_placed",
        "time": "2025-03-01T12:30:00Z",
        "properties": {"status": "completed", "amount": 12.5},
    }
    assert project.query(f"select count(*) from {LEDGER}") == [(501,)]
    log = project.query(
        "select rows_new, objects_delivered from analytics_braze.run_log order by started_at"
    )
    assert log == [(500, 500), (0, 0), (1, 1)]


def _schemas(project: ExampleProject) -> list[str]:
    rows = project.query(
        "select schema_name from information_schema.schemata where schema_name like '%braze%'"
    )
    return sorted(r[0] for r in rows)
