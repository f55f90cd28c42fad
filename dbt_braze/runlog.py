"""What one model's sync did, and the two tables that keep it: the run log and rejections."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

from dbt_braze.state import KEY, StateStore

MAX_SAMPLES = 3


@dataclass
class ModelResult:
    """Counts of one model's diff and send; written as one run log row."""

    model_id: str
    name: str
    model_type: str
    status: str = "success"  # success | error | skipped | planned
    message: str = ""
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    rows_total: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    rows_invalid: int = 0
    objects_sent: int = 0
    objects_delivered: int = 0
    objects_rejected: int = 0
    requests: int = 0
    retries: int = 0
    data_points: int = 0
    inflight_resent: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0

    @property
    def rows_unchanged(self) -> int:
        return max(0, self.rows_total - self.rows_new - self.rows_changed - self.rows_invalid)

    @property
    def duration(self) -> float:
        return (self.finished or time.time()) - self.started

    def sample(self, payload: dict[str, Any]) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(payload)

    def summary(self) -> str:
        parts = [
            f"new={self.rows_new}",
            f"changed={self.rows_changed}",
            f"removed={self.rows_removed}",
            f"unchanged={self.rows_unchanged}",
            f"invalid={self.rows_invalid}",
        ]
        if self.status != "planned":
            parts.append(f"rejected={self.objects_rejected}")
        return " ".join(parts)


class Rejections:
    """Rows refused before sending or by Braze, kept with the reason; buffered writes."""

    def __init__(self, store: StateStore, run_id: str, model_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.model_id = model_id
        self.pending: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, key: str | None, reason: str, message: str) -> None:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.pending.append((self.run_id, self.model_id, key, reason, message[:2000], now))
        self.count += 1

    def flush(self) -> None:
        """Write buffered rejections in the current transaction (the caller commits)."""
        if self.pending:
            columns = ["run_id", "model_id", KEY, "reason", "message", "rejected_at"]
            self.store.wh.insert_rows(self.store.table("rejections"), columns, self.pending)
            self.pending = []


_COLUMNS = [
    "run_id",
    "invocation_id",
    "dbt_invocation_id",
    "model_id",
    "model_type",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "rows_new",
    "rows_changed",
    "rows_removed",
    "rows_unchanged",
    "rows_invalid",
    "objects_sent",
    "objects_delivered",
    "objects_rejected",
    "requests",
    "retries",
    "data_points",
    "inflight_resent",
    "full_refresh",
    "message",
]
_COUNTS = _COLUMNS[8:21]


def _stamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def _counts(result: ModelResult) -> list[Any]:
    return [
        round(result.duration, 3),
        result.rows_new,
        result.rows_changed,
        result.rows_removed,
        result.rows_unchanged,
        result.rows_invalid,
        result.objects_sent,
        result.objects_delivered,
        result.objects_rejected,
        result.requests,
        result.retries,
        result.data_points,
        result.inflight_resent,
    ]


def start_run(
    store: StateStore,
    result: ModelResult,
    run_id: str,
    invocation_id: str | None,
    full_refresh: bool,
) -> None:
    """Record the run as `running` before anything is sent, and call the model's earlier
    runs still marked running (killed before they could finish) `interrupted`; commits."""
    from dbt_braze.log import INVOCATION_ID

    wh, table, p = store.wh, store.table("run_log"), store.wh.param
    wh.execute(
        f"update {table} set status = 'interrupted' where model_id = {p} and status = 'running'",
        (result.model_id,),
    )
    row: list[Any] = [run_id, INVOCATION_ID, invocation_id, result.model_id, result.model_type]
    row.append("running")
    row += [_stamp(result.started), None, *_counts(result), full_refresh, ""]
    wh.insert_rows(table, _COLUMNS, [tuple(row)])
    wh.commit()


def update_run(store: StateStore, result: ModelResult, run_id: str) -> None:
    """Write the run's status and counts so far into its run log row; commits."""
    wh, p = store.wh, store.wh.param
    sets = ", ".join(f"{c} = {p}" for c in ["status", "finished_at", *_COUNTS, "message"])
    finished = _stamp(result.finished) if result.finished else None
    values = [result.status, finished, *_counts(result), result.message[:2000]]
    wh.execute(
        f"update {store.table('run_log')} set {sets} where run_id = {p} and model_id = {p}",
        (*values, run_id, result.model_id),
    )
    wh.commit()


def sample_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, default=str)
