"""Postgres through psycopg2 (dbt-postgres' own driver): named cursors stream, COPY writes."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from dbt_braze.errors import WarehouseError
from dbt_braze.warehouse.base import Warehouse

DIFF_WORK_MEM = "256MB"
# Types whose text form casts back to the same value in the same session, so state can hold
# them typed and compare them without casting every model row to text. Floats are left out:
# their text is exact only at extra_float_digits >= 1.
_STATE_TYPES = {
    "boolean": "boolean",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "numeric": "numeric",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "text": "text",
    "character varying": "text",
}


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    return (
        text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class PostgresWarehouse(Warehouse):
    type = "postgres"
    param = "%s"
    # A cursor never runs in parallel, and Postgres before 16 has no parallel full join: the
    # diff's candidates are written by CREATE TABLE AS, one key slice per worker.
    materialize_diff = True

    def __init__(self, credentials: Any, application_name: str = "dbt-braze") -> None:
        options = {
            "host": credentials.host,
            "port": credentials.port,
            "user": credentials.user,
            "password": credentials.password,
            "dbname": credentials.database,
            "connect_timeout": credentials.connect_timeout or 10,
            "application_name": application_name,
        }
        if getattr(credentials, "sslmode", None):
            options["sslmode"] = credentials.sslmode
        try:
            self.conn = psycopg2.connect(**options)
        except psycopg2.Error as exc:
            raise WarehouseError(
                f"cannot connect to Postgres at {credentials.host}:{credentials.port} "
                f"as {credentials.user}: {str(exc).strip().splitlines()[0]}",
                hint="Check the target in profiles.yml and that the server is up.",
            ) from None
        self._cursors = 0
        self._tune_session()

    def _tune_session(self) -> None:
        """Settings of this session only, for the one large analytic query a diff is."""
        with self.conn.cursor() as cur:
            # JIT compiles the diff's many comparisons for seconds and saves less than that.
            if self.conn.server_version >= 110000:
                cur.execute("set jit = off")
            # Hash joins of a 1M-row model and its state spill to disk at the 4MB default;
            # raised for this session only, never lowered.
            cur.execute(
                "select set_config('work_mem', %s, false) "
                "where pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s)",
                (DIFF_WORK_MEM, DIFF_WORK_MEM),
            )
            cur.execute("select current_setting('max_parallel_workers_per_gather')")
            row = cur.fetchone()
        self.conn.commit()
        self.diff_partitions = max(1, min(8, int(row[0]) if row else 0))

    def key_partition(self, expression: str, parts: int) -> str:
        return f"coalesce(mod(hashtext({expression}) & 2147483647, {parts}), 0)"

    def parallel_settings(self) -> tuple[str, ...]:
        # Each slice is one non-parallel full join; a parallel append hands each slice to a
        # worker only when the slices' own scans are not split further, hence the scan size.
        # The planner guesses the diff returns most rows, so a tuple's transfer is made cheap.
        return (
            "set local parallel_setup_cost = 10",
            "set local parallel_tuple_cost = 0.001",
            "set local min_parallel_table_scan_size = '1TB'",
        )

    def _error(self, exc: psycopg2.Error, sql: str) -> WarehouseError:
        # The connection may be gone (server restart, pg_terminate_backend): rolling back
        # must not turn a clear WarehouseError into psycopg2's InterfaceError.
        with contextlib.suppress(psycopg2.Error):
            self.conn.rollback()
        message = (getattr(exc, "pgerror", None) or str(exc)).strip()
        if self.conn.closed:
            message += " (the connection to Postgres was lost)"
        return WarehouseError(f"Postgres: {message}", hint=f"while running: {sql[:200]}")

    def state_type(self, data_type: str) -> str | None:
        return _STATE_TYPES.get(data_type)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, tuple(params))
                return cur.fetchall() if cur.description else []
        except psycopg2.Error as exc:
            raise self._error(exc, sql) from None

    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_size: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        # A named cursor keeps the result on the server; WITH HOLD lets state commits on
        # this connection go on while the stream is open.
        self._cursors += 1
        try:
            cur = self.conn.cursor(name=f"dbt_braze_{self._cursors}", withhold=True)
        except psycopg2.Error as exc:
            raise self._error(exc, sql) from None
        cur.itersize = batch_size
        try:
            cur.execute(sql, tuple(params))
            self.conn.commit()
            while True:
                rows = cur.fetchmany(batch_size)
                if not rows:
                    break
                yield rows
        except psycopg2.Error as exc:
            raise self._error(exc, sql) from None
        finally:
            with contextlib.suppress(psycopg2.Error):
                cur.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, tuple(params))
                return cur.rowcount
        except psycopg2.Error as exc:
            raise self._error(exc, sql) from None

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_value(v) for v in row))
            buffer.write("\n")
        buffer.seek(0)
        column_list = ", ".join(self.quote(c) for c in columns)
        sql = f"copy {table} ({column_list}) from stdin"
        try:
            with self.conn.cursor() as cur:
                cur.copy_expert(sql, buffer)
        except psycopg2.Error as exc:
            raise self._error(exc, sql) from None

    def commit(self) -> None:
        try:
            self.conn.commit()
        except psycopg2.Error as exc:
            raise self._error(exc, "commit") from None

    def rollback(self) -> None:
        try:
            self.conn.rollback()
        except psycopg2.Error as exc:
            raise self._error(exc, "rollback") from None

    def try_lock(self, key: str) -> bool:
        # Session-level advisory lock: released when this connection ends, even on SIGKILL.
        rows = self.query("select pg_try_advisory_lock(%s)", (_lock_id(key),))
        self.commit()
        return bool(rows[0][0])

    def unlock(self, key: str) -> None:
        if self.conn.closed:
            return  # a session lock ends with its connection
        self.query("select pg_advisory_unlock(%s)", (_lock_id(key),))
        self.commit()

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()
