"""Warehouse access: the user's dbt profile in, a small connection object out."""

from __future__ import annotations

from pathlib import Path

from dbt_braze.warehouse.base import Warehouse
from dbt_braze.warehouse.profile import Target, resolve_target

__all__ = ["Target", "Warehouse", "connect", "resolve_target"]


def connect(target: Target, base_dir: Path | None = None) -> Warehouse:
    """Open a new connection for `target` (one per model being synced)."""
    if target.type == "postgres":
        from dbt_braze.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(target.credentials)
    from dbt_braze.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(target.credentials, base_dir)
