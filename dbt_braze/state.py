"""The tables dbt-braze keeps beside the user's models, in a schema of its own.

- `sync_models`: one row per synced model (first sync time, last sync time)
- `users__<model>`: per users model, each user's attribute values Braze last acknowledged
- `ledger__<model>`: per events or purchases model, the keys Braze acknowledged (or skipped)
- `inflight`: keys of events and purchases handed to Braze and not yet acknowledged
- `run_log`, `rejections`: the record teams query for sync health
- `rebuilds`: written by the opt-in dbt `on-run-end` hook (macros/hooks/on_run_end.sql)
"""

from __future__ import annotations

import hashlib
import re

from dbt_braze.config import SyncConfig
from dbt_braze.errors import WarehouseError
from dbt_braze.warehouse import Warehouse

KEY = "dbt_braze__key"
SYNCED_AT = "dbt_braze__synced_at"
STATUS = "dbt_braze__status"
_MAX_NAME = 63  # Postgres truncates longer identifiers


def table_name(prefix: str, config: SyncConfig) -> str:
    """A readable, unique, length-safe table name for a model's state."""
    base = re.sub(r"[^a-z0-9_]+", "_", config.model.name.lower())
    name = f"{prefix}__{base}"
    versioned = config.model.unique_id.rsplit(".", 1)[-1] != config.model.name
    if len(name) > _MAX_NAME or versioned:
        digest = hashlib.sha1(config.model.unique_id.encode()).hexdigest()[:8]
        name = f"{name[: _MAX_NAME - 9]}_{digest}"
    return name


def same_type(wh: Warehouse, state_type: str, model_type: str) -> bool:
    """Whether a state column of `state_type` holds the model's values as they are."""
    held = wh.state_type(model_type)
    return held is not None and wh.state_type(state_type) == held


def is_text(wh: Warehouse, data_type: str) -> bool:
    return (wh.state_type(data_type) or "").lower() == wh.text_type.lower()


class StateStore:
    """Names and DDL of the state schema, for one warehouse connection."""

    def __init__(self, warehouse: Warehouse, schema: str) -> None:
        self.wh = warehouse
        self.schema = schema

    def table(self, name: str) -> str:
        return self.wh.relation(self.schema, name)

    def exists(self, name: str) -> bool:
        return self.wh.columns(self.schema, name) is not None

    def ensure_schema(self) -> None:
        """Create the schema and the shared tables if they are missing, then commit."""
        try:
            self._create_shared()
        except WarehouseError:
            # Two syncs (or --threads) creating them at once: Postgres lets one `if not
            # exists` fail on a catalog unique index; the other has created them by now.
            self.wh.rollback()
            self._create_shared()

    def _create_shared(self) -> None:
        wh, ts = self.wh, "timestamp"
        wh.execute(f"create schema if not exists {wh.quote(self.schema)}")
        wh.execute(
            f"create table if not exists {self.table('sync_models')} ("
            "model_id text primary key, model_type text, state_table text, "
            f"first_synced_at {ts}, last_synced_at {ts})"
        )
        wh.execute(
            f"create table if not exists {self.table('inflight')} ("
            f"model_id text, {KEY} text, run_id text, sent_at {ts})"
        )
        wh.execute(
            f"create table if not exists {self.table('run_log')} ("
            "run_id text, invocation_id text, dbt_invocation_id text, model_id text, "
            "model_type text, status text, started_at timestamp, finished_at timestamp, "
            "duration_s double precision, rows_new bigint, rows_changed bigint, "
            "rows_removed bigint, rows_unchanged bigint, rows_invalid bigint, "
            "objects_sent bigint, objects_delivered bigint, objects_rejected bigint, "
            "requests bigint, retries bigint, data_points bigint, inflight_resent bigint, "
            "full_refresh boolean, message text)"
        )
        wh.execute(
            f"create table if not exists {self.table('rejections')} ("
            f"run_id text, model_id text, {KEY} text, reason text, message text, "
            f"rejected_at {ts})"
        )
        wh.execute(
            f"create table if not exists {self.table('rebuilds')} ("
            "invocation_id text, model_id text, relation_name text, status text, "
            f"rebuilt_at {ts})"
        )
        wh.commit()

    def first_sync(self, config: SyncConfig) -> bool:
        if not self.exists("sync_models"):
            return True
        rows = self.wh.query(
            f"select 1 from {self.table('sync_models')} where model_id = {self.wh.param}",
            (config.model.unique_id,),
        )
        return not rows

    def register(self, config: SyncConfig, state_table: str) -> None:
        """Mark the model as synced now (its first sync sets first_synced_at)."""
        wh, p = self.wh, self.wh.param
        done = wh.execute(
            f"update {self.table('sync_models')} set last_synced_at = {wh.now()} "
            f"where model_id = {p}",
            (config.model.unique_id,),
        )
        if done == 0 or not wh.query(
            f"select 1 from {self.table('sync_models')} where model_id = {p}",
            (config.model.unique_id,),
        ):
            wh.execute(
                f"insert into {self.table('sync_models')} values ({p}, {p}, {p}, "
                f"{wh.now()}, {wh.now()})",
                (config.model.unique_id, config.type, state_table),
            )

    def ensure_users_table(self, name: str, attributes: dict[str, str]) -> dict[str, str]:
        """Create the users state table, or add columns for newly mapped attributes; return
        its column types.

        `attributes` maps each Braze attribute to its model column's type. A state column has
        that type when the warehouse can hold it exactly (`Warehouse.state_type`), else text.
        A column whose model type changed since is turned into text, which holds any value.
        """
        wh, table = self.wh, self.table(name)
        existing = wh.column_types(self.schema, name)
        if existing is None:
            wh.execute(
                f"create table {table} ({wh.quote(KEY)} {wh.text_type} primary key, "
                f"{wh.quote(SYNCED_AT)} timestamp)"
            )
            existing = {}
        text = wh.text_type
        for attribute, model_type in attributes.items():
            column = wh.quote(attribute)
            held = existing.get(attribute)
            if held is None:
                # A newly mapped attribute: null for everyone, so the diff sends it once.
                wanted = wh.state_type(model_type) or text
                wh.execute(f"alter table {table} add column {column} {wanted}")
            elif not same_type(wh, held, model_type) and not is_text(wh, held):
                wh.execute(
                    f"alter table {table} alter column {column} type {text} "
                    f"using cast({column} as {text})"
                )
        # Read back: the types as the warehouse names them, which the diff compares.
        return wh.column_types(self.schema, name) or {}

    def ensure_ledger(self, name: str) -> None:
        wh = self.wh
        if wh.columns(self.schema, name) is None:
            wh.execute(
                f"create table {self.table(name)} ({wh.quote(KEY)} text primary key, "
                f"{wh.quote(STATUS)} text, {wh.quote(SYNCED_AT)} timestamp)"
            )

    def forget(self, config: SyncConfig) -> int:
        """Drop a model's state so its next sync is a full resync; the run log stays."""
        dropped = 0
        for prefix in ("users", "ledger"):
            name = table_name(prefix, config)
            if self.exists(name):
                self.wh.execute(f"drop table {self.table(name)}")
                dropped += 1
        for shared in ("sync_models", "inflight"):
            if self.exists(shared):
                self.wh.execute(
                    f"delete from {self.table(shared)} where model_id = {self.wh.param}",
                    (config.model.unique_id,),
                )
        self.wh.commit()
        return dropped
