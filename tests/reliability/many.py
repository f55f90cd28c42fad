"""A project copy with generated Braze models of a few thousand rows, and Braze snapshots.

`add_many_models` writes three models (users, events, purchases) built with generate_series,
which DuckDB and Postgres both have, so one SQL text serves both warehouses. `snapshot` reads
what the emulator holds in a form two runs can be compared by: profiles by external_id, events
and purchases as multisets (Braze never de-duplicates them, so a resend shows as a count of 2).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from dbt_braze.emulator import Emulator
from tests.fixtures.dbt_project import ExampleProject

USERS_SQL = """
{{ config(materialized='table', meta={'braze': {
    'type': 'users', 'external_id': 'user_id', 'on_delete': 'unset',
    'attributes': ['tier', 'score', 'signup_at', 'nickname', 'is_active']}}) }}
select
    'u' || cast(g as varchar) as user_id,
    case when g % 3 = 0 then 'gold' when g % 3 = 1 then 'silver' else 'bronze' end as tier,
    cast(g * 1.25 as numeric(12, 2)) as score,
    cast('2024-01-01 00:00:00' as timestamp) + g * interval '1 minute' as signup_at,
    case when g % 11 = 0 then null else 'n' || cast(g % 97 as varchar) end as nickname,
    g % 7 <> 0 as is_active
from generate_series(1, {n}) as t(g)
"""

EVENTS_SQL = """
{{ config(materialized='table', meta={'braze': {
    'type': 'events', 'external_id': 'user_id', 'event_id': 'event_id', 'name': 'page_view',
    'time': 'viewed_at', 'properties': ['page', 'seconds']}}) }}
select
    'e' || cast(g as varchar) as event_id,
    'u' || cast(1 + g % {users} as varchar) as user_id,
    cast('2025-01-01 00:00:00' as timestamp) + g * interval '1 second' as viewed_at,
    'p' || cast(g % 13 as varchar) as page,
    g % 300 as seconds
from generate_series(1, {n}) as t(g)
"""

PURCHASES_SQL = """
{{ config(materialized='table', meta={'braze': {
    'type': 'purchases', 'external_id': 'user_id', 'purchase_id': 'purchase_id',
    'product_id': 'sku', 'price': 'price', 'currency': 'EUR', 'quantity': 'quantity',
    'time': 'bought_at'}}) }}
select
    'p' || cast(g as varchar) as purchase_id,
    'u' || cast(1 + g % {users} as varchar) as user_id,
    'sku-' || cast(g % 17 as varchar) as sku,
    cast(1 + (g % 50) * 0.99 as numeric(12, 2)) as price,
    1 + g % 4 as quantity,
    cast('2025-02-01 00:00:00' as timestamp) + g * interval '1 second' as bought_at
from generate_series(1, {n}) as t(g)
"""

MODELS = ("braze_many_users", "braze_many_events", "braze_many_purchases")


def add_many_models(project: ExampleProject, users: int, events: int, purchases: int) -> None:
    """Write the generated models into the copy, beside the example's own Braze models."""
    folder = project.path / "models" / "many"
    folder.mkdir()
    texts = {
        "braze_many_users": USERS_SQL.replace("{n}", str(users)),
        "braze_many_events": EVENTS_SQL.replace("{n}", str(events)),
        "braze_many_purchases": PURCHASES_SQL.replace("{n}", str(purchases)),
    }
    for name, text in texts.items():
        (folder / f"{name}.sql").write_text(text.replace("{users}", str(users)))


def change_many(project: ExampleProject, execute: Any) -> None:
    """An upstream change: attributes change, a few users vanish, new events and purchases."""
    s = "analytics"
    execute(project, f"update {s}.braze_many_users set tier = 'platinum' where score < 40")
    execute(project, f"update {s}.braze_many_users set nickname = null where score > 3700")
    execute(project, f"delete from {s}.braze_many_users where user_id in ('u2', 'u4', 'u6')")
    execute(
        project,
        f"insert into {s}.braze_many_events select 'x' || event_id, user_id, viewed_at, page, "
        f"seconds from {s}.braze_many_events where seconds < 20",
    )
    execute(
        project,
        f"insert into {s}.braze_many_purchases select 'x' || purchase_id, user_id, sku, price, "
        f"quantity, bought_at from {s}.braze_many_purchases where quantity = 4",
    )


@dataclass
class BrazeState:
    """What Braze holds, comparable across runs that used different emulators."""

    users: dict[str, dict[str, Any]]
    events: Counter[str]
    purchases: Counter[str]

    @property
    def objects(self) -> int:
        return len(self.users) + sum(self.events.values()) + sum(self.purchases.values())


def _key(record: dict[str, Any]) -> str:
    kept = {k: v for k, v in record.items() if k != "braze_id"}
    return json.dumps(kept, sort_keys=True, default=str)


def snapshot(emulator: Emulator) -> BrazeState:
    users = {}
    for user in emulator.users():
        attributes = {k: v for k, v in user.items() if k not in ("braze_id", "user_aliases")}
        users[str(user["external_id"])] = attributes
    return BrazeState(
        users,
        Counter(_key(e) for e in emulator.events()),
        Counter(_key(p) for p in emulator.purchases()),
    )


@dataclass
class Difference:
    lost: int  # users whose profile differs or is missing, plus events/purchases missing
    duplicates: int  # events and purchases received more often than in the clean run
    extra: int  # objects the clean run never sent
    examples: list[str]


def compare(clean: BrazeState, other: BrazeState) -> Difference:
    """How `other` differs from the clean run's Braze state."""
    examples: list[str] = []
    lost = extra = duplicates = 0
    for external_id, attributes in clean.users.items():
        if other.users.get(external_id) != attributes:
            lost += 1
            if len(examples) < 5:
                examples.append(
                    f"user {external_id}: {other.users.get(external_id)} != {attributes}"
                )
    extra += len(set(other.users) - set(clean.users))
    for mine, theirs in ((clean.events, other.events), (clean.purchases, other.purchases)):
        for key, count in mine.items():
            got = theirs.get(key, 0)
            if got < count:
                lost += count - got
                if len(examples) < 5:
                    examples.append(f"missing: {key}")
            duplicates += max(0, got - count)
        extra += sum(1 for key in theirs if key not in mine)
    return Difference(lost, duplicates, extra, examples)
