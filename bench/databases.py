"""The two warehouses the benchmark runs on: a throwaway Postgres cluster and a DuckDB file.

Postgres is started with the test suite's own starter (tests/fixtures/postgres.py), or taken
from DBT_BRAZE_PG_HOST when set, as the tests do.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg2

from tests.fixtures.postgres import PgInfo, PostgresServer, _external_server, _ThrowawayCluster


@dataclass
class Database:
    """One benchmark database: how dbt reaches it and how the bench runs SQL on it."""

    dialect: str  # "postgres" | "duckdb"
    pg: PgInfo | None = None
    path: Path | None = None  # the DuckDB file

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor in autocommit; DuckDB's file is closed again after (one process at a time)."""
        if self.pg is not None:
            conn = psycopg2.connect(self.pg.dsn)
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    yield cur
            finally:
                conn.close()
            return
        with duckdb.connect(str(self.path)) as conn:
            yield conn

    def execute(self, sql: str) -> float:
        """Run a statement; the seconds it took."""
        started = time.perf_counter()
        with self.cursor() as cur:
            cur.execute(sql)
        return time.perf_counter() - started

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def version(self) -> str:
        if self.pg is not None:
            return str(self.query("show server_version")[0][0]).split()[0]
        return str(duckdb.__version__)

    def profile(self, schema: str) -> dict[str, Any]:
        """The dbt profile output for this database."""
        if self.pg is not None:
            return {
                "type": "postgres",
                "host": self.pg.host,
                "port": self.pg.port,
                "user": self.pg.user,
                "password": self.pg.password,
                "dbname": self.pg.dbname,
                "schema": schema,
                "threads": 1,
            }
        return {"type": "duckdb", "path": str(self.path), "schema": schema, "threads": 1}


class PostgresCluster:
    """A running Postgres server for the whole bench run, with fresh databases on demand."""

    def __init__(self) -> None:
        self._cluster: _ThrowawayCluster | None = None
        if os.environ.get("DBT_BRAZE_PG_HOST"):
            self.server: PostgresServer = _external_server()
        else:
            self._cluster = _ThrowawayCluster.start()
            self.server = self._cluster.server

    def database(self, name: str) -> Database:
        return Database("postgres", pg=self.server.create_database(name))

    def close(self) -> None:
        with contextlib.suppress(psycopg2.Error):
            self.server.drop_created_databases()
        if self._cluster is not None:
            self._cluster.stop()


def duckdb_database(folder: Path, name: str) -> Database:
    # Not named after a schema: DuckDB would find "bench" ambiguous (catalog or schema).
    path = folder / f"{name}_warehouse.duckdb"
    path.unlink(missing_ok=True)
    return Database("duckdb", path=path)
