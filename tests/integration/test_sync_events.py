"""The events sync end to end: real dbt project, real warehouse, real emulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from dbt_braze.emulator import Emulator
from tests.braze_cli import dbt_braze, execute
from tests.fixtures.dbt_project import ExampleProject, build_only

EVENTS = "analytics.braze_order_events"
LEDGER = "analytics_braze.ledger__braze_order_events"


def _stored(emulator: Emulator) -> Counter[str]:
    """Events the emulator holds (without the braze_id it assigned), as a multiset."""
    return Counter(
        _canonical({k: v for k, v in e.items() if k != "braze_id"}) for e in emulator.events()
    )


def _canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True)


def _expected(project: ExampleProject) -> Counter[str]:
    """The event objects Braze should hold for every row of the model."""
    rows = project.query(f"select customer_id, ordered_at, status, amount from {EVENTS}")
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
    build_only(project, "activity/braze_order_events.sql")

    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=500 " in out.stdout and "invalid=0 " in out.stdout
    stats = emulator.stats()
    assert stats["requests"] == 7  # 500 events, 75 a request
    assert len(emulator.events()) == 500
    assert _stored(emulator) == _expected(project)
    assert project.query(f"select count(*) from {LEDGER}") == [(500,)]

    # Nothing new: not a single request, and no event twice.
    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=0 " in out.stdout
    assert emulator.stats()["requests"] == stats["requests"]
    assert len(emulator.events()) == 500

    # A new order: it alone is sent.
    execute(
        project,
        f"insert into {EVENTS} values (501, 7, '2025-03-01 12:30:00', 'completed', 12.5)",
    )
    # plan over existing state: the one new event, its payload, and nothing written.
    # (test_sync_purchases checks that a plan on a fresh project creates no state schema.)
    out = dbt_braze(project, "plan")
    assert "new=1 " in out.stdout and "sample: " in out.stdout
    assert '"name": "order_placed"' in out.stdout and "2025-03-01T12:30:00Z" in out.stdout
    assert project.query("select count(*) from analytics_braze.run_log") == [(2,)]
    assert project.query(f"select count(*) from {LEDGER}") == [(500,)]
    out = dbt_braze(project, "sync", emulator=emulator)
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
    # Every acknowledged key left the in-flight journal.
    assert project.query("select count(*) from analytics_braze.inflight") == [(0,)]


def test_rejected_event_is_retried_and_invalid_rows_never_sent(
    warehouse_project: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    project = warehouse_project
    build_only(project, "activity/braze_order_events.sql")
    # This workspace allows 40 characters; dbt-braze checks Braze's default, 255.
    emulator = emulator_factory(string_max_chars=40)
    long_status = "awaiting-confirmation-from-the-warehouse-team"
    execute(project, f"update {EVENTS} set status = %s where order_id = 5", (long_status,))
    # Invalid rows, all dated 2030 so that none of them can hide among the real events.
    execute(
        project,
        f"insert into {EVENTS} values "
        "(null, 1, '2030-01-01 00:00:00', 'completed', 1), "  # null key
        "(601, 2, '2030-01-02 00:00:00', 'completed', 2), "  # duplicate key
        "(601, 3, '2030-01-03 00:00:00', 'completed', 3), "
        "(602, 4, null, 'completed', 4), "  # null time
        "(603, null, '2030-01-05 00:00:00', 'completed', 5)",  # null identifier
    )

    out = dbt_braze(project, "sync", emulator=emulator, expect=1)
    assert "new=500 " in out.stdout and "invalid=5 " in out.stdout
    assert "rejected=1" in out.stdout
    events = emulator.events()
    assert len(events) == 499
    assert not [e for e in events if e["time"].startswith("2030")]
    assert not [e for e in events if e["properties"]["status"] == long_status]
    rejections = project.query(
        "select dbt_braze__key, reason, message from analytics_braze.rejections "
        "order by reason, dbt_braze__key"
    )
    assert sorted(((r[0] or ""), r[2]) for r in rejections if r[1] == "invalid") == [
        ("", "order_id is null"),
        ("601", "order_id is not unique in the model"),
        ("601", "order_id is not unique in the model"),
        ("602", "time column ordered_at is null"),
        ("603", "external_id is null"),
    ]
    assert [r[:2] for r in rejections if r[1] == "rejected"] == [("5", "rejected")]
    message = next(r[2] for r in rejections if r[1] == "rejected")
    assert "status" in message and "40" in message, message
    # Neither the rejected nor the invalid keys enter the ledger.
    held = f"select * from {LEDGER} where dbt_braze__key in ('5', '601', '602', '603')"
    assert project.query(held) == []
    # A refused event is settled too: nothing stays journalled as in flight.
    assert project.query("select count(*) from analytics_braze.inflight") == [(0,)]

    # Next run: the rejected event is tried again (alone), and refused again.
    before = emulator.stats()
    out = dbt_braze(project, "sync", emulator=emulator, expect=1)
    assert "new=1 " in out.stdout and "rejected=1" in out.stdout
    assert emulator.stats()["requests"] - before["requests"] == 1
    assert len(emulator.events()) == 499

    # Fixed upstream: delivered once, and the next run is quiet but for the invalid rows.
    execute(project, f"update {EVENTS} set status = 'on hold' where order_id = 5")
    out = dbt_braze(project, "sync", emulator=emulator, expect=1)
    assert "new=1 " in out.stdout and "rejected=0" in out.stdout and "invalid=5" in out.stdout
    events = emulator.events()
    assert len(events) == 500
    assert [e for e in events if e["properties"]["status"] == "on hold"] == [events[-1]]


def _configure(project: ExampleProject, braze: dict[str, str], sql: str | None = None) -> None:
    """Edit this copy's events model: its `meta.braze` lines and, optionally, its SQL."""
    folder = project.path / "models" / "activity"
    yaml_path = folder / "_braze_activity.yml"
    text = yaml_path.read_text()
    for old, new in braze.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    yaml_path.write_text(text)
    if sql is not None:
        (folder / "braze_order_events.sql").write_text(sql)


def test_backfill_none_sends_only_rows_after_the_first_sync(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    _configure(project, {"backfill: all": "backfill: none"})
    build_only(project, "activity/braze_order_events.sql")

    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=0 " in out.stdout
    assert emulator.stats()["requests"] == 0 and emulator.events() == []
    assert project.query(f"select dbt_braze__status, count(*) from {LEDGER} group by 1") == [
        ("skipped", 500)
    ]

    execute(project, f"insert into {EVENTS} values (501, 7, '2025-03-01 12:30:00', 'placed', 40)")
    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=1 " in out.stdout
    assert [{k: v for k, v in e.items() if k != "braze_id"} for e in emulator.events()] == [
        {
            "external_id": "7",
            "name": "order_placed",
            "time": "2025-03-01T12:30:00Z",
            "properties": {"status": "placed", "amount": 40},
        }
    ]


# Event name from a column, a JSON column with nested values, and (on Postgres) a time with
# its zone: the shapes a real events model has beyond the example's.
RICH_EVENTS_SQL = """
select
    order_id,
    customer_id,
    'order_' || status as event_name,
    status,
    {% if target.type == 'postgres' %}
    cast(ordered_at as timestamptz) as ordered_at,
    json_build_object(
        'amount', amount, 'ids', json_build_array(order_id, customer_id),
        'flags', json_build_object('gift', false, 'note', 'none')
    ) as details
    {% else %}
    ordered_at,
    json_object(
        'amount', amount, 'ids', json_array(order_id, customer_id),
        'flags', json_object('gift', false, 'note', 'none')
    ) as details
    {% endif %}
from {{ ref('stg_orders') }}
"""


def _details(amount: Any, order_id: int, customer_id: int) -> dict[str, Any]:
    return {
        "amount": float(amount),
        "ids": [order_id, customer_id],
        "flags": {"gift": False, "note": "none"},
    }


def _plain(value: Any) -> Any:
    """JSON values with integral floats as ints, so 312 and 312.0 compare as the same text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value == int(value):
        return int(value)
    return value


def _utc_text(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_backfill_since_name_column_and_nested_properties(
    warehouse_project: ExampleProject, emulator: Emulator
) -> None:
    project = warehouse_project
    _configure(
        project,
        {
            "backfill: all": "backfill: {since: 2024-10-01}",
            "name: order_placed": "name_column: event_name",
            "properties: [status, amount]": "properties: {status: order_status, details: details}",
        },
        RICH_EVENTS_SQL,
    )
    build_only(project, "activity/braze_order_events.sql")

    out = dbt_braze(project, "sync", emulator=emulator)
    recent = project.query(
        f"select order_id, customer_id, event_name, status, ordered_at, details from {EVENTS} "
        "where ordered_at >= '2024-10-01'"
    )
    assert 0 < len(recent) < 500
    assert f"new={len(recent)} " in out.stdout
    stored = emulator.events()
    times = [e["time"] for e in stored]
    # ISO 8601 with its zone: Z for UTC, or an explicit offset.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", t) for t in times)
    got = Counter(
        _canonical({
            "external_id": e["external_id"],
            "name": e["name"],
            "time": _utc_text(dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))),
            "properties": _plain(e["properties"]),
        })
        for e in stored
    )  # fmt: skip
    expected = Counter(
        _canonical({
            "external_id": str(customer_id),
            "name": name,
            "time": _utc_text(ordered_at),
            "properties": _plain({
                "order_status": status,
                "details": _details(amount, order_id, customer_id),
            }),
        })
        for order_id, customer_id, name, status, ordered_at, amount in [
            (r[0], r[1], r[2], r[3], r[4], _amount(r[5])) for r in recent
        ]
    )  # fmt: skip
    assert got == expected
    assert {e["name"] for e in stored} >= {"order_completed", "order_shipped"}
    skipped = project.query(f"select count(*) from {LEDGER} where dbt_braze__status = 'skipped'")
    assert skipped == [(500 - len(recent),)]

    # After the first sync, `since` no longer applies: a late row from 2023 is new, so it goes.
    execute(
        project,
        f"insert into {EVENTS} (order_id, customer_id, event_name, status, ordered_at, details) "
        "values (501, 9, 'order_returned', 'returned', '2023-05-06 07:08:09', "
        """'{"amount": 5, "ids": [501, 9], "flags": {"gift": true}}')""",
    )
    before = len(stored)
    out = dbt_braze(project, "sync", emulator=emulator)
    assert "new=1 " in out.stdout
    stored = emulator.events()
    assert len(stored) == before + 1
    last = stored[-1]
    assert (last["external_id"], last["name"]) == ("9", "order_returned")
    late = project.query(f"select ordered_at from {EVENTS} where order_id = 501")[0][0]
    assert _utc_text(dt.datetime.fromisoformat(last["time"].replace("Z", "+00:00"))) == (
        _utc_text(late)
    )
    assert last["properties"] == {
        "order_status": "returned",
        "details": {"amount": 5, "ids": [501, 9], "flags": {"gift": True}},
    }


def _amount(details: Any) -> Any:
    """The amount inside a details value as the warehouse returns it (text on DuckDB)."""
    return (json.loads(details) if isinstance(details, str) else details)["amount"]
