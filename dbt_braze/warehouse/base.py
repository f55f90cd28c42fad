"""What dbt-braze asks of a warehouse; each adapter's differences live in its own module."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any


class Warehouse:
    """A connection to the user's warehouse: queries, streams, bulk writes, locks."""

    type = "base"
    param = "%s"  # bind placeholder of the driver
    text_type = "text"
    # Whether a users diff first writes its candidates to a session temp table (so the
    # warehouse may plan that step in parallel), and in how many key slices.
    materialize_diff = False
    diff_partitions = 1

    def quote(self, identifier: str) -> str:
        """Quote a name the way the warehouse does; quotes inside are doubled."""
        return '"' + identifier.replace('"', '""') + '"'

    def relation(self, schema: str, name: str, database: str | None = None) -> str:
        parts = [p for p in (database, schema, name) if p]
        return ".".join(self.quote(p) for p in parts)

    def columns(self, schema: str, name: str) -> list[str] | None:
        """The relation's column names in order, or None when it does not exist."""
        types = self.column_types(schema, name)
        return list(types) if types is not None else None

    def column_types(self, schema: str, name: str) -> dict[str, str] | None:
        """Each column's type as information_schema names it, in order; None if no relation."""
        rows = self.query(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = {self.param} and table_name = {self.param} "
            "order by ordinal_position",
            (schema, name),
        )
        return {r[0]: str(r[1]) for r in rows} or None

    def state_type(self, data_type: str) -> str | None:
        """The state column type that keeps a value of `data_type` exactly and compares it
        natively; None to keep it as canonical text (floats, JSON, arrays, anything else)."""
        return None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_size: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of `sql` in batches, never the whole result in memory."""
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement in the current transaction; return the rows it touched."""
        raise NotImplementedError

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk-insert rows into `table` (already quoted) in the current transaction."""
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def try_lock(self, key: str) -> bool:
        """Take a lock on `key` for this connection's life; False if someone holds it."""
        raise NotImplementedError

    def unlock(self, key: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def text(self, expression: str) -> str:
        """The expression as canonical text, so values compare equal across runs."""
        return f"cast({expression} as {self.text_type})"

    def key_partition(self, expression: str, parts: int) -> str:
        """SQL of the slice (0 to parts - 1) a text key falls in; a null key in slice 0."""
        raise NotImplementedError

    def parallel_settings(self) -> tuple[str, ...]:
        """Statements that let the transaction's next query run in parallel workers."""
        return ()

    def now(self) -> str:
        return "current_timestamp"

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
