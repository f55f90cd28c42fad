"""DuckDB, the embedded default: one database file, opened by one process at a time."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dbt_braze.errors import LockError, WarehouseError
from dbt_braze.warehouse.base import Warehouse

_locks: set[str] = set()
_locks_guard = threading.Lock()
_INSERT_CHUNK = 500
# Types whose text form casts back to the same value, so state holds them typed (floats and
# nested types stay canonical text).
_STATE_TYPES = {
    t: t
    for t in (
        "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DATE", "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE", "VARCHAR",
    )
}  # fmt: skip


def _one_type(values: list[Any]) -> bool:
    """Whether the non-null values are all of one Python type (so they make one list)."""
    return len({type(v) for v in values if v is not None}) <= 1


# Known limitation: DuckDB runs inside the sync process, so the diff's own query memory counts
# in the sync's peak RSS (about 365-490 MB at 1M users, docs/benchmarks.md), more when the diff
# is most of a synced model (its removed-users count makes DuckDB hold the result whole).
class DuckDBWarehouse(Warehouse):
    type = "duckdb"
    param = "?"
    text_type = "varchar"

    def __init__(self, credentials: Any, base_dir: Path | None = None) -> None:
        import duckdb

        self._duckdb = duckdb
        path = credentials.path
        if path != ":memory:" and not Path(path).is_absolute() and base_dir is not None:
            path = str(base_dir / path)
        self.path = path
        try:
            self.conn = duckdb.connect(path)
        except duckdb.Error as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise LockError(
                    f"the DuckDB file {path} is in use by another process",
                    hint="Wait for the other dbt or dbt-braze command to finish, then rerun.",
                ) from None
            raise WarehouseError(f"cannot open DuckDB file {path}: {text}") from None
        self.conn.execute("begin transaction")
        self._held: set[str] = set()

    def _error(self, exc: Exception, sql: str) -> WarehouseError:
        return WarehouseError(f"DuckDB: {exc}", hint=f"while running: {sql[:200]}")

    def state_type(self, data_type: str) -> str | None:
        if re.fullmatch(r"DECIMAL\(\d+,\d+\)", data_type):
            return data_type
        return _STATE_TYPES.get(data_type)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            result = self.conn.execute(sql, list(params))
            return result.fetchall() if result.description else []
        except self._duckdb.Error as exc:
            self.rollback()
            raise self._error(exc, sql) from None

    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_size: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        # A cursor of its own, so state writes on the main connection can commit meanwhile.
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, list(params))
            while True:
                rows = cursor.fetchmany(batch_size)
                if not rows:
                    break
                yield rows
        except self._duckdb.Error as exc:
            raise self._error(exc, sql) from None
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            result = self.conn.execute(sql, list(params))
            row = result.fetchone() if result.description else None
            return int(row[0]) if row and isinstance(row[0], int) else -1
        except self._duckdb.Error as exc:
            self.rollback()
            raise self._error(exc, sql) from None

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        column_list = ", ".join(self.quote(c) for c in columns)
        if not rows:
            return
        values = [list(column) for column in zip(*rows, strict=True)]
        if all(_one_type(column) for column in values):
            # One list parameter per column, unnested side by side: a single statement that
            # DuckDB converts in bulk, >10x faster than many-row VALUES with bound parameters.
            select = ", ".join("unnest(?)" for _ in columns)
            self.execute(f"insert into {table} ({column_list}) select {select}", values)
            return
        one = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            sql = f"insert into {table} ({column_list}) values " + ", ".join(one for _ in chunk)
            self.execute(sql, [v for row in chunk for v in row])

    def commit(self) -> None:
        self.conn.execute("commit")
        self.conn.execute("begin transaction")

    def rollback(self) -> None:
        with contextlib.suppress(self._duckdb.Error):
            self.conn.execute("rollback")
        self.conn.execute("begin transaction")

    def try_lock(self, key: str) -> bool:
        # Another process cannot open the file at all; threads of this one share this set.
        with _locks_guard:
            if key in _locks:
                return False
            _locks.add(key)
            self._held.add(key)
            return True

    def unlock(self, key: str) -> None:
        with _locks_guard:
            _locks.discard(key)
            self._held.discard(key)

    def close(self) -> None:
        for key in list(self._held):
            self.unlock(key)
        with contextlib.suppress(self._duckdb.Error):
            self.conn.execute("commit")
        self.conn.close()
