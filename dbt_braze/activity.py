"""Sync of `type: events` and `type: purchases` models: each row sent once, on Braze's word.

Braze never de-duplicates events or purchases, so keys are journalled as in flight before
they are sent and moved to the ledger once acknowledged; the next run reports what a crash
left in flight (the only objects that can reach Braze twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dbt_braze import braze_rules
from dbt_braze.client import Item, Outcome
from dbt_braze.config import SyncConfig
from dbt_braze.diff import DUPLICATE_ID, NULL_ID, key_expression
from dbt_braze.job import AckBuffer, Job, load_temp
from dbt_braze.log import logger
from dbt_braze.payload import InvalidValue, json_column, to_braze
from dbt_braze.runlog import Rejections, update_run
from dbt_braze.state import KEY, STATUS, SYNCED_AT, table_name
from dbt_braze.warehouse import Warehouse

_JOURNAL_CHUNK = 1000


def _columns(config: SyncConfig) -> list[str]:
    """Model columns the payload needs, in the order the diff selects them."""
    return [c for c in config.used_columns() if c != config.key_column] + [config.key_column]


def _diff_sql(job: Job, ledger: str | None, since: dt.date | None, skip_all: bool) -> str:
    wh, config = job.wh, job.config
    q = wh.quote
    cols = _columns(config)
    values = ", ".join(f"{q(c)} as v{i}" for i, c in enumerate(cols))
    keep = "1 = 0" if skip_all else "true"
    if since is not None:
        keep = f"(m.v{cols.index(config.time_column)} >= {wh.param} or m.k is null)"
    known = f"not exists (select 1 from {ledger} l where l.{q(KEY)} = m.k)" if ledger else "true"
    kind = (
        f"case when m.k is null then '{NULL_ID}' when d.k is not null then '{DUPLICATE_ID}' "
        "else 'new' end"
    )
    return (
        f"with m as (select {key_expression(wh, config)} as k, {values} from {job.relation}), "
        "d as (select k from m where k is not null group by k having count(*) > 1) "
        f"select {kind}, m.k, "
        + ", ".join(f"m.v{i}" for i in range(len(cols)))
        + f" from m left join d on d.k = m.k where (m.k is null or {known}) and {keep}"
    )


def sync_activity(job: Job) -> None:
    """Send the model's rows that the ledger does not hold, journalling them in flight."""
    config, wh, store, result = job.config, job.wh, job.store, job.result
    job.model_columns()
    name = table_name("ledger", config)
    first = store.first_sync(config)
    ledger: str | None = store.table(name)
    if job.dry_run:
        ledger = ledger if store.exists(name) else None
    else:
        store.ensure_ledger(name)
        result.inflight_resent = _previous_inflight(job, name)
        update_run(store, result, job.run_id)
    backfill = config.backfill if first and not job.full_refresh else None
    since = backfill.since if backfill and backfill.mode == "since" else None
    skip_all = bool(backfill and backfill.mode == "none")
    if backfill and backfill.mode != "all" and not job.dry_run:
        _skip_history(job, name, since)
        skip_all, since = False, None
    result.rows_total = job.count(f"select 1 from {job.relation}")
    sql = _diff_sql(job, ledger, since, skip_all)
    params = (since,) if since else ()

    rejections = Rejections(store, job.run_id, config.model.unique_id)
    acks = AckBuffer(
        lambda rows: _record(job, name, rows),
        rejections,
        wh,
        # Unrecorded acknowledgements are what a crash can double: keep them few.
        every=min(int(job.settings["state_commit_every"]), 600),
        seconds=0.25,
    )
    items = _items(job, sql, params, rejections)
    if job.dry_run:
        for _ in items:
            pass
        return
    job.send(_journalled(job, items), lambda outcomes: _settle(job, outcomes, acks, rejections))
    acks.flush()
    store.register(config, name)
    acks.flush()


def _previous_inflight(job: Job, name: str) -> int:
    """Keys that earlier runs handed to Braze without recording its answer (they were killed
    first). They are not in the ledger, so the diff sends them again, and Braze may already
    have some: count them. Their journal rows stay until Braze acknowledges them, so a run
    killed again reports them again; the count is written to the run log at once."""
    wh, q, p = job.wh, job.wh.quote, job.wh.param
    table, model_id = job.store.table("inflight"), job.config.model.unique_id
    wh.execute(
        f"delete from {table} where model_id = {p} and {q(KEY)} in "
        f"(select {q(KEY)} from {job.store.table(name)})",
        (model_id,),
    )
    rows = wh.query(
        f"select count(distinct {q(KEY)}) from {table} where model_id = {p}", (model_id,)
    )
    count = int(rows[0][0])
    if count:
        logger.warning(
            f"{job.config.name}: a previous sync stopped with {count} {job.config.type} in "
            "flight; they are sent again and Braze may count up to that many twice"
        )
    return count


def _skip_history(job: Job, name: str, since: dt.date | None) -> None:
    """First sync with `backfill: none` or `since`: record old keys as skipped, unsent."""
    wh, config = job.wh, job.config
    q, p = wh.quote, wh.param
    where = f"{q(config.key_column)} is not null"
    params: tuple[Any, ...] = ()
    if since is not None:
        where += f" and {q(config.time_column)} < {p}"
        params = (since,)
    skipped = wh.execute(
        f"insert into {job.store.table(name)} ({q(KEY)}, {q(STATUS)}, {q(SYNCED_AT)}) "
        f"select distinct {key_expression(wh, config)}, 'skipped', {wh.now()} "
        f"from {job.relation} where {where} on conflict do nothing",
        params,
    )
    wh.commit()
    logger.info(f"{config.name}: first sync, backfill {config.backfill.mode}: history skipped")
    logger.debug(f"{config.name}: {skipped} keys recorded as skipped")


def _items(job: Job, sql: str, params: tuple[Any, ...], rejections: Rejections) -> Iterator[Item]:
    config, result = job.config, job.result
    cols = _columns(config)
    kind = config.type
    for batch in job.wh.stream(sql, params):
        for row in batch:
            if row[0] in (NULL_ID, DUPLICATE_ID):
                result.rows_invalid += 1
                problem = "is null" if row[0] == NULL_ID else "is not unique in the model"
                rejections.add(row[1], "invalid", f"{config.key_column} {problem}")
                continue
            key, values = row[1], dict(zip(cols, row[2:], strict=True))
            try:
                body = build_object(config, values)
            except InvalidValue as exc:
                result.rows_invalid += 1
                rejections.add(key, "invalid", str(exc))
                continue
            check = (
                braze_rules.check_event_object
                if kind == "events"
                else braze_rules.check_purchase_object
            )
            problems = check(body)
            if problems:
                result.rows_invalid += 1
                rejections.add(key, "invalid", "; ".join(problems))
                continue
            result.rows_new += 1
            result.data_points += 1 + (
                len(body.get("properties", {})) if kind == "purchases" else 0
            )
            result.sample(body)
            result.objects_sent += 0 if job.dry_run else 1
            yield Item(kind, body, key)


def build_object(config: SyncConfig, values: dict[str, Any]) -> dict[str, Any]:
    """A Braze event or purchase object from one row's values."""
    ident = config.identifier
    user = values.get(ident.column)
    if user is None:
        raise InvalidValue(f"{ident.kind} is null")
    if ident.kind == "user_alias":
        label = values[ident.alias_label_column] if ident.alias_label_column else ident.alias_label
        body: dict[str, Any] = {"user_alias": {"alias_name": str(user), "alias_label": label}}
    else:
        body = {ident.kind: str(user)}
    when = values.get(config.time_column)
    if when is None:
        raise InvalidValue(f"time column {config.time_column} is null")
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day, tzinfo=dt.timezone.utc)
    body["time"] = to_braze(when, "time")
    if config.app_id:
        body["app_id"] = config.app_id
    if config.type == "events":
        name = config.event_name or values.get(config.event_name_column or "")
        if name is None:
            raise InvalidValue(f"event name column {config.event_name_column} is null")
        body["name"] = str(name)
    else:
        for field, column in (
            ("product_id", config.product_column),
            ("price", config.price_column),
        ):
            if values.get(column) is None:
                raise InvalidValue(f"{field} column {column} is null")
        body["product_id"] = str(values[config.product_column])
        body["price"] = to_braze(values[config.price_column], "price")
        currency = config.currency or values.get(config.currency_column or "")
        if currency is None:
            raise InvalidValue(f"currency column {config.currency_column} is null")
        body["currency"] = str(currency).upper()
        if config.quantity_column and values.get(config.quantity_column) is not None:
            body["quantity"] = to_braze(values[config.quantity_column], "quantity")
    if config.properties:
        props = {
            prop: to_braze(json_column(values[col], prop), prop)
            for col, prop in config.properties.items()
            if values.get(col) is not None
        }
        if props:
            body["properties"] = props
    if config.update_existing_only is not None:
        body["_update_existing_only"] = config.update_existing_only
    return body


def _journalled(job: Job, items: Iterator[Item]) -> Iterator[Item]:
    """Record keys as in flight, committed, before the client can send them."""
    wh, table = job.wh, job.store.table("inflight")
    model_id = job.config.model.unique_id
    chunk: list[Item] = []

    def record(batch: list[Item]) -> None:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        rows = [(model_id, item.token, job.run_id, now) for item in batch]
        wh.insert_rows(table, ["model_id", KEY, "run_id", "sent_at"], rows)
        wh.commit()

    for item in items:
        chunk.append(item)
        if len(chunk) >= _JOURNAL_CHUNK:
            record(chunk)
            yield from chunk
            chunk = []
    if chunk:
        record(chunk)
        yield from chunk


def _settle(job: Job, outcomes: list[Outcome], acks: AckBuffer, rejections: Rejections) -> None:
    for outcome in outcomes:
        if outcome.delivered:
            job.result.objects_delivered += 1
            acks.add((outcome.token, "uncertain" if outcome.uncertain else "sent"))
            if outcome.uncertain:
                rejections.add(outcome.token, "uncertain", outcome.error or "")
        else:
            job.result.objects_rejected += 1
            acks.add((outcome.token, "rejected"))
            rejections.add(outcome.token, "rejected", outcome.error or "rejected by Braze")


def _record(job: Job, name: str, rows: list[tuple[Any, ...]]) -> None:
    """Acknowledged keys into the ledger and out of the journal, in one transaction."""
    wh: Warehouse = job.wh
    q = wh.quote
    temp = load_temp(wh, f"dbt_braze_ack_{name}", [KEY, STATUS], rows)
    ledger = job.store.table(name)
    wh.execute(
        f"insert into {ledger} ({q(KEY)}, {q(STATUS)}, {q(SYNCED_AT)}) "
        f"select {q(KEY)}, {q(STATUS)}, {wh.now()} from {temp} "
        f"where {q(STATUS)} <> 'rejected' on conflict do nothing"
    )
    wh.execute(
        f"delete from {job.store.table('inflight')} where model_id = {wh.param} "
        f"and {q(KEY)} in (select {q(KEY)} from {temp})",
        (job.config.model.unique_id,),
    )
