"""One model's sync: what it works with, and the buffer that advances state on Braze's word."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dbt_braze.client import BrazeClient, Item, Outcome
from dbt_braze.config import SyncConfig, check_columns
from dbt_braze.errors import ConfigError, WarehouseError
from dbt_braze.runlog import ModelResult, Rejections
from dbt_braze.state import StateStore
from dbt_braze.warehouse import Warehouse


@dataclass
class Job:
    config: SyncConfig
    wh: Warehouse
    store: StateStore
    client: BrazeClient | None  # None for plan
    result: ModelResult
    run_id: str
    settings: dict[str, Any]
    full_refresh: bool = False
    allow_mass_delete: bool = False

    @property
    def dry_run(self) -> bool:
        return self.client is None

    @property
    def relation(self) -> str:
        return self.wh.relation(self.config.model.schema, self.config.model.alias)

    def model_columns(self) -> dict[str, str]:
        """The relation's real columns and their types; every mapped one must be among them."""
        model = self.config.model
        columns = self.wh.column_types(model.schema, model.alias)
        if columns is None:
            raise WarehouseError(
                f"relation {model.relation_name} does not exist",
                hint=f"Run `dbt run -s {model.name}` first.",
            )
        problems = check_columns(self.config, list(columns))
        if problems:
            raise ConfigError(problems)
        return columns

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.wh.query(f"select count(*) from ({sql}) c", params)[0][0])

    def send(self, items: Iterator[Item], on_outcomes: Callable[[list[Outcome]], None]) -> None:
        assert self.client is not None
        for outcomes in self.client.track(items):
            on_outcomes(outcomes)

    def add_client_stats(self, before: Any) -> None:
        assert self.client is not None
        after = self.client.stats
        self.result.requests += after.requests - before.requests
        self.result.retries += after.retries - before.retries
        # An answer lost after Braze applied a batch makes the client resend it: those
        # events and purchases may count twice, so they are reported like in-flight ones.
        self.result.inflight_resent += after.ambiguous_resends - before.ambiguous_resends


class AckBuffer:
    """Acknowledged rows waiting to be written to state, flushed in bounded transactions.

    A crash loses at most one buffer of acknowledged work, which the next run sends again:
    harmless for attributes, and reported as in flight for events and purchases.
    """

    def __init__(
        self,
        flush: Callable[[list[tuple[Any, ...]]], None],
        rejections: Rejections,
        wh: Warehouse,
        every: int = 5000,
        seconds: float = 2.0,
    ) -> None:
        self._flush = flush
        self.rejections = rejections
        self.wh = wh
        self.every = every
        self.seconds = seconds
        self.rows: list[tuple[Any, ...]] = []
        self._last = time.monotonic()

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.every or time.monotonic() - self._last > self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self._flush(self.rows)
            self.rows = []
        self.rejections.flush()
        self.wh.commit()
        self._last = time.monotonic()


def load_temp(wh: Warehouse, name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """Fill a session temp table of text columns with `rows`; return its quoted name."""
    table = wh.quote(name)
    column_defs = ", ".join(f"{wh.quote(c)} {wh.text_type}" for c in columns)
    wh.execute(f"create temporary table if not exists {table} ({column_defs})")
    wh.execute(f"delete from {table}")
    wh.insert_rows(table, columns, rows)
    return table
