"""`dbt-braze status` (recent runs from the run log) and `dbt-braze reset` (forget state)."""

from __future__ import annotations

import sys

import click

from dbt_braze.context import Options, load_context
from dbt_braze.errors import EXIT_OK, UsageError
from dbt_braze.log import logger
from dbt_braze.state import StateStore


def run_status(options: Options) -> int:
    context = load_context(options)
    limit = int(options.extra.get("limit") or 20)
    with context.connect() as wh:
        store = StateStore(wh, context.state_schema())
        if not store.exists("run_log"):
            logger.info(f"No syncs recorded yet in schema {store.schema}.")
            return EXIT_OK
        ids = [c.model.unique_id for c in context.configs]
        marks = ", ".join(wh.param for _ in ids) or "null"
        rows = wh.query(
            "select started_at, model_id, status, rows_new, rows_changed, rows_removed, "
            "rows_invalid, objects_delivered, objects_rejected, requests, retries, duration_s "
            f"from {store.table('run_log')} where model_id in ({marks}) "
            f"order by started_at desc limit {limit}",
            ids,
        )
    logger.info(
        f"{'started (UTC)':<19}  {'model':<28} {'status':<8} {'new':>6} {'changed':>7} "
        f"{'removed':>7} {'invalid':>7} {'sent':>7} {'rejected':>8} {'reqs':>5} {'secs':>6}"
    )
    for started, model_id, status, *counts, duration in rows:
        name = model_id.split(".")[-1]
        numbers = " ".join(
            f"{n or 0:>{w}}" for n, w in zip(counts, (6, 7, 7, 7, 7, 8, 5), strict=False)
        )
        logger.info(
            f"{started:%Y-%m-%d %H:%M:%S}  {name:<28} {status:<8} {numbers} {duration or 0:>6.2f}"
        )
    logger.info(f"Done. {len(rows)} runs shown.")
    return EXIT_OK


def run_reset(options: Options) -> int:
    if not options.select and not options.selector:
        raise UsageError("reset needs -s/--select naming the models to forget")
    context = load_context(options)
    names = ", ".join(c.name for c in context.configs) or "no Braze models"
    if not context.configs:
        raise UsageError(f"the selection matches {names}")
    if not options.extra.get("yes"):
        if not sys.stdin.isatty():
            raise UsageError("reset asks for confirmation; pass --yes when not interactive")
        click.confirm(f"Forget the sync state of {names}? Their next sync resends all", abort=True)
    with context.connect() as wh:
        store = StateStore(wh, context.state_schema())
        for config in context.configs:
            store.forget(config)
            logger.info(f"Reset {config.type} model {config.name}: next sync is a full resync")
    logger.info(f"Done. {len(context.configs)} models reset.")
    return EXIT_OK
