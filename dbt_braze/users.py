"""Sync of a `type: users` model: field-level deltas, unset or delete for vanished users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbt_braze import braze_rules
from dbt_braze.client import DeleteItem, Item, Outcome
from dbt_braze.diff import (
    CHANGED,
    DUPLICATE_ID,
    NEW,
    NULL_ID,
    REMOVED,
    finish_users_diff,
    removed_users,
    run_users_diff,
    users_diff,
)
from dbt_braze.errors import MassDeleteError
from dbt_braze.job import AckBuffer, Job, load_temp
from dbt_braze.log import logger
from dbt_braze.payload import (
    InvalidValue,
    delete_identifier,
    identifier_fields,
    json_column,
    to_braze,
)
from dbt_braze.runlog import Rejections
from dbt_braze.state import KEY, SYNCED_AT, is_text, table_name

_INVALID_REASONS = {NULL_ID: "null identifier", DUPLICATE_ID: "duplicate identifier"}


def sync_users(job: Job) -> None:
    """Diff the model against state, send the changes, advance state per acknowledged user."""
    config, wh, store, result = job.config, job.wh, job.store, job.result
    model_types = job.model_columns()
    mapping = config.resolve_attributes(list(model_types))
    attributes = list(mapping.values())
    name = table_name("users", config)
    if job.dry_run:
        state_types = wh.column_types(store.schema, name) or {}
        state = store.table(name) if state_types else None
    else:
        state_types = store.ensure_users_table(
            name, {a: model_types.get(c, "") for c, a in mapping.items()}
        )
        wh.commit()
        state = store.table(name)
    diff = users_diff(
        wh,
        config,
        job.relation,
        mapping,
        state,
        state_types,
        model_types,
        job.full_refresh,
        removed_with_values_only=config.on_delete == "unset",
        state_has_rows=bool(state and wh.query(f"select 1 from {state} limit 1")),
    )
    result.rows_total = job.count(f"select 1 from {job.relation}")
    known = [a for a in attributes if a in state_types]
    # The number of removed users is known before any row is read: the mass-delete guard
    # decides before anything is sent.
    result.rows_removed, batches = run_users_diff(wh, diff)
    removed = _removed(job, state, known)

    rejections = Rejections(store, job.run_id, config.model.unique_id)
    acks = AckBuffer(
        lambda rows: _advance(job, name, attributes, state_types, rows),
        rejections,
        wh,
        every=int(job.settings["state_commit_every"]),
    )
    items = _items(job, diff, attributes, rejections, batches)
    if job.dry_run:
        for _ in items:
            pass
    else:
        job.send(items, lambda outcomes: _settle(job, outcomes, acks, rejections))
        acks.flush()
    finish_users_diff(wh, diff)
    if removed:
        _remove(job, name, known, removed, rejections)
    if not job.dry_run:
        store.register(config, name)
        acks.flush()


def _items(
    job: Job,
    diff: Any,
    attributes: list[str],
    rejections: Rejections,
    batches: Iterator[list[tuple[Any, ...]]],
) -> Iterator[Item]:
    config, result = job.config, job.result
    n = diff.width
    extras: dict[str, Any] = {}
    if config.update_existing_only is not None:
        extras["_update_existing_only"] = config.update_existing_only
    elif config.identifier.kind == "user_alias":
        extras["_update_existing_only"] = False  # Braze's alias default would not create
    if config.merge_objects:
        extras["_merge_objects"] = True
    for batch in batches:
        for row in batch:
            kind, key = row[0], row[1]
            if kind == REMOVED:
                continue  # sent by _remove, after the changes
            if kind in _INVALID_REASONS:
                result.rows_invalid += 1
                rejections.add(key, "invalid", _INVALID_REASONS[kind])
                continue
            values, texts = row[2 : 2 + n], row[2 + n : 2 + 2 * n]
            flags = row[2 + 2 * n : 2 + 3 * n]
            body = identifier_fields(config.identifier, key)
            try:
                for attribute, value, changed in zip(attributes, values, flags, strict=True):
                    if changed:
                        body[attribute] = to_braze(json_column(value, attribute), attribute)
            except InvalidValue as exc:
                result.rows_invalid += 1
                rejections.add(key, "invalid", str(exc))
                continue
            problems = braze_rules.check_attributes_object(body)
            if problems:
                result.rows_invalid += 1
                rejections.add(key, "invalid", "; ".join(problems))
                continue
            if kind == NEW:
                result.rows_new += 1
            elif kind == CHANGED:
                result.rows_changed += 1
            result.data_points += len(body) - 1
            body.update(extras)
            result.sample(body)
            result.objects_sent += 0 if job.dry_run else 1
            yield Item("attributes", body, (key, tuple(texts)))


def _settle(job: Job, outcomes: list[Outcome], acks: AckBuffer, rejections: Rejections) -> None:
    for outcome in outcomes:
        key, texts = outcome.token
        if outcome.delivered:
            job.result.objects_delivered += 1
            acks.add((key, *texts))
        else:
            job.result.objects_rejected += 1
            rejections.add(key, "rejected", outcome.error or "rejected by Braze")


def _advance(
    job: Job,
    name: str,
    attributes: list[str],
    state_types: dict[str, str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Upsert acknowledged users' values into state (the caller commits).

    The values arrive as the warehouse's own text of each value; typed state columns cast
    them back, which gives the value the model had."""
    wh = job.wh
    columns = [KEY, *attributes]
    temp = load_temp(wh, f"dbt_braze_ack_{name}", columns, rows)
    target = job.store.table(name)
    quoted = ", ".join(wh.quote(c) for c in columns)
    typed = ", ".join(
        wh.quote(c)
        if is_text(wh, state_types.get(c, wh.text_type))
        else f"cast({wh.quote(c)} as {state_types[c]})"
        for c in columns
    )
    updates = ", ".join(
        f"{wh.quote(c)} = excluded.{wh.quote(c)}" for c in [*attributes, SYNCED_AT]
    )
    wh.execute(
        f"insert into {target} ({quoted}, {wh.quote(SYNCED_AT)}) "
        f"select {typed}, {wh.now()} from {temp} "
        f"on conflict ({wh.quote(KEY)}) do update set {updates}"
    )


def _removed(job: Job, state: str | None, attributes: list[str]) -> str | None:
    """The SQL of users to unset or delete, after the mass-delete guard; None if none.

    `result.rows_removed` is already counted, by the diff."""
    config, result = job.config, job.result
    if state is None or config.on_delete == "ignore" or result.rows_removed == 0:
        return None
    sql = removed_users(
        job.wh, config, job.relation, state, attributes, config.on_delete == "unset"
    )
    known = job.count(f"select 1 from {state}")
    share = result.rows_removed / max(known, 1)
    threshold = float(job.settings["mass_delete_threshold"])
    if not job.allow_mass_delete and (result.rows_total == 0 or share > threshold):
        what = "is empty" if result.rows_total == 0 else f"would remove {share:.0%} of its users"
        raise MassDeleteError(
            f"model {config.name} {what} ({result.rows_removed} of {known} synced users, "
            f"on_delete: {config.on_delete}); nothing was removed",
            hint="If that is intended, rerun with --allow-mass-delete; otherwise check the "
            f"model (threshold: vars.dbt_braze.mass_delete_threshold = {threshold}).",
        )
    return sql


def _remove(
    job: Job,
    name: str,
    attributes: list[str],
    sql: str,
    rejections: Rejections,
) -> None:
    config, wh = job.config, job.wh
    mode = config.on_delete
    acks = AckBuffer(
        lambda rows: _forget(job, name, attributes, rows, mode),
        rejections,
        wh,
        every=int(job.settings["state_commit_every"]),
    )

    def unset_items() -> Iterator[Item]:
        for batch in wh.stream(sql):
            for key, *values in batch:
                body = identifier_fields(config.identifier, key)
                body.update(
                    {a: None for a, v in zip(attributes, values, strict=True) if v is not None}
                )
                if config.identifier.kind == "user_alias":
                    body["_update_existing_only"] = True
                job.result.data_points += len(body) - 1
                job.result.sample(body)
                yield Item("attributes", body, (key, ()))

    def delete_items() -> Iterator[DeleteItem]:
        for batch in wh.stream(sql):
            for row in batch:
                id_type, value = delete_identifier(config.identifier, row[0])
                yield DeleteItem(id_type, value, (row[0], ()))

    if job.dry_run:
        for _ in unset_items() if mode == "unset" else delete_items():
            pass
        return
    assert job.client is not None
    stream = (
        job.client.track(unset_items()) if mode == "unset" else job.client.delete(delete_items())
    )
    for outcomes in stream:
        job.result.objects_sent += len(outcomes)
        _settle(job, outcomes, acks, rejections)
    acks.flush()
    logger.debug(f"{config.name}: {mode} sent for {job.result.rows_removed} users")


def _forget(
    job: Job, name: str, attributes: list[str], rows: list[tuple[Any, ...]], mode: str
) -> None:
    wh = job.wh
    temp = load_temp(wh, f"dbt_braze_gone_{name}", [KEY], [(r[0],) for r in rows])
    target, key = job.store.table(name), wh.quote(KEY)
    if mode == "delete":
        wh.execute(f"delete from {target} where {key} in (select {key} from {temp})")
        return
    nulls = ", ".join(f"{wh.quote(a)} = null" for a in attributes)
    wh.execute(f"update {target} set {nulls} where {key} in (select {key} from {temp})")
