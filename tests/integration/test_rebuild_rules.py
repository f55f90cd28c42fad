"""When does the hook's record let a sync skip a model? On a real (in-memory) DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest

from dbt_braze.config import SyncConfig
from dbt_braze.rebuilds import SKIP_REASON, unchanged_since_last_sync
from dbt_braze.state import StateStore
from dbt_braze.warehouse.duckdb import DuckDBWarehouse

MODEL = "model.shop.braze_users"
SYNCED = dt.datetime(2025, 6, 1, 12, 0)
BEFORE, AFTER = SYNCED - dt.timedelta(hours=1), SYNCED + dt.timedelta(hours=1)
CONFIG = cast(
    SyncConfig, SimpleNamespace(name="braze_users", model=SimpleNamespace(unique_id=MODEL))
)


@pytest.fixture
def store() -> Iterator[StateStore]:
    warehouse = DuckDBWarehouse(SimpleNamespace(path=":memory:"))
    store = StateStore(warehouse, "analytics_braze")
    store.ensure_schema()
    yield store
    warehouse.close()


def synced(store: StateStore, at: dt.datetime = SYNCED) -> None:
    store.wh.execute(
        f"insert into {store.table('sync_models')} values (?, 'users', 'users__x', ?, ?)",
        (MODEL, at, at),
    )


def hook_recorded(
    store: StateStore, invocation: str, at: dt.datetime, model_id: str | None = None
) -> None:
    rows: list[tuple[object, ...]] = [(invocation, None, None, "invocation", at)]
    if model_id:
        rows.append((invocation, model_id, f'"db"."{model_id}"', "success", at))
    store.wh.insert_rows(
        store.table("rebuilds"),
        ["invocation_id", "model_id", "relation_name", "status", "rebuilt_at"],
        rows,
    )


def test_without_the_hook_nothing_is_skipped(store: StateStore) -> None:
    synced(store)

    assert unchanged_since_last_sync(store, CONFIG) is None


def test_a_model_never_synced_is_synced(store: StateStore) -> None:
    hook_recorded(store, "a", BEFORE, MODEL)

    assert unchanged_since_last_sync(store, CONFIG) is None


def test_a_model_not_rebuilt_since_its_sync_is_skipped(store: StateStore) -> None:
    synced(store)
    hook_recorded(store, "a", BEFORE, MODEL)
    hook_recorded(store, "b", AFTER, "model.shop.other")

    assert unchanged_since_last_sync(store, CONFIG) == SKIP_REASON
    assert unchanged_since_last_sync(store, CONFIG, latest_dbt_invocation="b") == SKIP_REASON


def test_a_model_rebuilt_since_its_sync_is_synced(store: StateStore) -> None:
    synced(store)
    hook_recorded(store, "a", BEFORE, MODEL)
    hook_recorded(store, "b", AFTER, MODEL)

    assert unchanged_since_last_sync(store, CONFIG) is None


def test_a_hook_switched_on_after_the_last_sync_proves_nothing(store: StateStore) -> None:
    # The model may have been rebuilt between its sync and the hook's first record.
    synced(store)
    hook_recorded(store, "b", AFTER, "model.shop.other")

    assert unchanged_since_last_sync(store, CONFIG) is None


def test_a_latest_dbt_command_the_hook_did_not_record_is_not_trusted(store: StateStore) -> None:
    # E.g. the hook was removed from dbt_project.yml and the model rebuilt without it.
    synced(store)
    hook_recorded(store, "a", BEFORE, MODEL)

    assert unchanged_since_last_sync(store, CONFIG, latest_dbt_invocation="c") is None
