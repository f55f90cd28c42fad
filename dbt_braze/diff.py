"""The diff, written as SQL for the warehouse to run: only its result leaves the warehouse.

A users diff compares each row's mapped columns with the state table (null-safe), natively
where the state column has the model column's type, else as canonical text; an events or
purchases diff is the rows whose key is not in the ledger. Both flag invalid rows (null or
duplicate key) so they are reported, never sent.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbt_braze.config import SyncConfig
from dbt_braze.state import KEY, is_text, same_type
from dbt_braze.warehouse import Warehouse

NULL_ID, DUPLICATE_ID, NEW, CHANGED = "null_id", "duplicate_id", "new", "changed"
REMOVED = "removed"


def key_expression(wh: Warehouse, config: SyncConfig) -> str:
    """The text that names a user (or an event) in state: the identifier, alias with label."""
    ident = config.identifier
    if config.type != "users":
        return wh.text(wh.quote(config.key_column))
    name = wh.text(wh.quote(ident.column))
    if ident.kind != "user_alias":
        return name
    if ident.alias_label_column:
        label = wh.text(wh.quote(ident.alias_label_column))
    else:
        label = "'" + (ident.alias_label or "").replace("'", "''") + "'"
    return f"({label} || chr(31) || {name})"


def _any_set(wh: Warehouse, attributes: list[str]) -> str:
    """SQL true when a state row `s` still holds a value for one of the attributes."""
    if not attributes:
        return "false"
    return "(" + " or ".join(f"s.{wh.quote(a)} is not null" for a in attributes) + ")"


@dataclass(frozen=True)
class UsersDiff:
    """The SQL of one users model's diff, and how to read its rows.

    `setup` runs first (in one transaction) when the warehouse materializes the candidates;
    `removed_sql` then counts the removed users; `sql` streams the rows; `cleanup` drops what
    `setup` made. `run_users_diff` does all of it.
    """

    sql: str
    columns: list[str]  # the model columns selected, in order, after kind and key
    attributes: list[str]  # Braze attribute of each mapped column, same order
    setup: tuple[str, ...] = ()
    removed_sql: str | None = None
    cleanup: tuple[str, ...] = ()
    removed_in_rows: bool = False  # each row ends with the removed count (one-query diff)

    @property
    def width(self) -> int:
        return len(self.columns)


def users_diff(
    wh: Warehouse,
    config: SyncConfig,
    relation: str,
    mapping: dict[str, str],
    state: str | None,
    state_types: dict[str, str],
    model_types: dict[str, str],
    full_refresh: bool = False,
    removed_with_values_only: bool = False,
    state_has_rows: bool = True,
) -> UsersDiff:
    """Rows that are new, changed, invalid or removed, with one changed-flag per attribute.

    Each row: kind, key, typed values..., text values..., changed flags..., and, when the
    warehouse streams the diff in one query, the number of removed users in the whole result
    (the same on every row), so the caller knows it from the first row, before it sends
    anything. Removed users (in state, gone from the model) count only if some attribute is
    still set when `removed_with_values_only`. `state` is None when no state table exists yet
    (plan before a first sync). `state_types` and `model_types` give each state and model
    column's type: a state column of the model column's type is compared natively, any other
    as canonical text on both sides.

    With no state rows (a first sync) every row is new: one query streams them, and a key
    that occurs twice anywhere in the model is a duplicate. Otherwise the diff first finds the
    candidates (rows that differ from state, and removed users), then looks for duplicates
    among the candidates' keys only: a duplicate key whose every copy equals the state sends
    nothing and is counted unchanged (README, limitations). That spares an aggregate over
    every model key, the diff's largest cost after the join.
    """
    q = wh.quote
    cols = list(mapping)
    attrs = [mapping[c] for c in cols]
    key = key_expression(wh, config)
    src_cols = ", ".join(f"{q(c)} as v{i}" for i, c in enumerate(cols))
    src_text = ", ".join(f"{wh.text(q(c))} as t{i}" for i, c in enumerate(cols))
    sel_src = ", ".join(filter(None, ["1 as p", f"{key} as k", src_cols, src_text]))
    values = [f"v{i}" for i in range(len(cols))]
    texts = [f"t{i}" for i in range(len(cols))]
    flag_names = [f"c{i}" for i in range(len(cols))]
    if state is None or not state_has_rows:
        return _first_diff(wh, relation, key, sel_src, cols, attrs, values, texts, flag_names)

    def flag(i: int, column: str, attribute: str) -> str:
        if attribute not in state_types:
            # A column the state does not have yet has never been sent: null to every user.
            return f"(m.v{i} is not null)"
        held = f"s.{q(attribute)}"
        if full_refresh:
            return f"(m.v{i} is not null or {held} is not null)"
        if same_type(wh, state_types[attribute], model_types.get(column, "")):
            return f"(m.v{i} is distinct from {held})"
        if not is_text(wh, state_types[attribute]):
            held = wh.text(held)
        return f"(m.t{i} is distinct from {held})"

    flags = [flag(i, c, a) for i, (c, a) in enumerate(zip(cols, attrs, strict=True))]
    changed_any = " or ".join(flags) if flags else "false"
    row_filter = "true" if full_refresh else f"({changed_any})"
    known = [a for a in attrs if a in state_types]
    removed = _any_set(wh, known) if removed_with_values_only else "true"
    kind = (
        f"case when m.p is null then '{REMOVED}' when m.k is null then '{NULL_ID}' "
        f"when s.{q(KEY)} is null then '{NEW}' else '{CHANGED}' end"
    )
    candidate_list = ", ".join(
        [f"{kind} as kind", "m.k as k"]
        + [f"m.{v}" for v in values + texts]
        + [f"{f} as {n}" for f, n in zip(flags, flag_names, strict=True)]
    )
    where = (
        f"(m.p is not null and (m.k is null or s.{q(KEY)} is null or {row_filter})) "
        f"or (m.p is null and {removed})"
    )
    parts = max(1, wh.diff_partitions)

    def candidates(part: int | None) -> str:
        model, state_rows = f"(select {sel_src} from {relation})", state
        if part is not None:
            # One hash slice of the keys on both sides: a slice's full join runs alone in
            # one parallel worker, and the slices together are the whole diff.
            model = (
                f"(select {sel_src} from {relation} where {wh.key_partition(key, parts)} = {part})"
            )
            state_rows = (
                f"(select * from {state} where {wh.key_partition(f'{q(KEY)}', parts)} = {part})"
            )
        return (
            f"select {candidate_list} from {model} m "
            f"full join {state_rows} s on s.{q(KEY)} = m.k where {where}"
        )

    if parts == 1:
        candidate_sql = candidates(None)
    else:
        candidate_sql = " union all ".join(candidates(p) for p in range(parts))
    pending = f"kind in ('{NEW}', '{CHANGED}')"
    # A plain identifier of a type whose text casts back exactly can be matched as itself.
    native_key = None
    if config.identifier.kind != "user_alias":
        native_key = wh.state_type(model_types.get(config.identifier.column, ""))

    def stream_sql(c: str, extra: str = "") -> str:
        # Duplicates among the keys about to be sent: one scan of the model's keys against
        # the (usually few) candidates, instead of an aggregate over every key.
        kind_out = f"case when {pending} and d.k is not null then '{DUPLICATE_ID}' else kind end"
        out = ", ".join([kind_out, "c.k", *(f"c.{n}" for n in values + texts + flag_names)])
        dups = (
            f"(select {key} as k from {relation} where {key} in "
            f"(select k from {c} where {pending}) group by 1 having count(*) > 1)"
        )
        if native_key:
            # The identifier column as the model has it: no million casts to text to probe.
            ident = q(config.identifier.column)
            dups = (
                f"(select {wh.text(ident)} as k from {relation} where {ident} in "
                f"(select cast(k as {native_key}) from {c} where {pending}) "
                f"group by {ident} having count(*) > 1)"
            )
        return f"select {out}{extra} from {c} c left join {dups} d on d.k = c.k"

    if wh.materialize_diff:
        temp = wh.quote(f"dbt_braze_diff_{uuid.uuid4().hex[:12]}")
        return UsersDiff(
            sql=stream_sql(temp),
            columns=cols,
            attributes=attrs,
            setup=(*wh.parallel_settings(), f"create temporary table {temp} as {candidate_sql}"),
            removed_sql=f"select count(*) from {temp} where kind = '{REMOVED}'",
            cleanup=(f"drop table if exists {temp}",),
        )
    # One streamed query: the candidates are a CTE that both the duplicate check and the
    # output read, and a window counts the removed users on every row.
    window = f", sum(case when kind = '{REMOVED}' then 1 else 0 end) over ()"
    sql = f"with c as ({candidate_sql}) " + stream_sql("c", window)
    return UsersDiff(sql=sql, columns=cols, attributes=attrs, removed_in_rows=True)


def _first_diff(
    wh: Warehouse,
    relation: str,
    key: str,
    sel_src: str,
    cols: list[str],
    attrs: list[str],
    values: list[str],
    texts: list[str],
    flag_names: list[str],
) -> UsersDiff:
    """Every row is new: stream the model with its duplicate and null keys marked."""
    kind = (
        f"case when m.k is null then '{NULL_ID}' when d.k is not null then '{DUPLICATE_ID}' "
        f"else '{NEW}' end"
    )
    out = ", ".join(
        [kind, "m.k", *(f"m.{n}" for n in values + texts)]
        + [f"m.{v} is not null as {n}" for v, n in zip(values, flag_names, strict=True)]
    )
    # `d` reads the relation itself, not `m`: a CTE used twice is materialized by Postgres,
    # which would write every row's typed and text values to disk before the join.
    sql = (
        f"with m as (select {sel_src} from {relation}), "
        f"d as (select {key} as k from {relation} where {key} is not null "
        "group by 1 having count(*) > 1) "
        f"select {out} from m left join d on d.k = m.k"
    )
    return UsersDiff(sql=sql, columns=cols, attributes=attrs)


def run_users_diff(wh: Warehouse, diff: UsersDiff) -> tuple[int, Iterator[list[tuple[Any, ...]]]]:
    """Run the diff: the number of removed users, and its rows in batches.

    The count is known before the first row is read, so the mass-delete guard decides before
    anything is sent. Call `finish_users_diff` after the rows are read."""
    if diff.setup:
        with wh.transaction():
            for statement in diff.setup:
                wh.execute(statement)
    if diff.removed_sql is not None:
        removed = int(wh.query(diff.removed_sql)[0][0])
        return removed, wh.stream(diff.sql)
    batches = wh.stream(diff.sql)
    if not diff.removed_in_rows:
        return 0, batches  # a first sync: nobody can have been removed
    first = next(batches, [])
    return (int(first[0][-1]) if first else 0), itertools.chain([first], batches)


def finish_users_diff(wh: Warehouse, diff: UsersDiff) -> None:
    """Drop what the diff's setup made (a session's temp tables go with it anyway)."""
    for statement in diff.cleanup:
        wh.execute(statement)
    if diff.cleanup:
        wh.commit()


def removed_users(
    wh: Warehouse,
    config: SyncConfig,
    relation: str,
    state: str,
    attributes: list[str],
    only_with_values: bool,
) -> str:
    """Users in state that the model no longer has; with their state attribute values."""
    q = wh.quote
    sel = ", ".join([f"s.{q(KEY)}", *(f"s.{q(a)}" for a in attributes)])
    # An anti-join needs no DISTINCT over the model's keys (an aggregate of every row).
    sql = (
        f"select {sel} from {state} s where not exists (select 1 from {relation} m "
        f"where {key_expression(wh, config)} = s.{q(KEY)})"
    )
    if only_with_values:
        # Nothing left to unset is nothing to send: an identifier alone would recreate a user.
        sql += f" and {_any_set(wh, attributes)}"
    return sql


def row_count(relation: str) -> str:
    return f"select count(*) from {relation}"
