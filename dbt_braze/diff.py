"""The diff, written as SQL for the warehouse to run: only its result leaves the warehouse.

A users diff compares each row's mapped columns, as canonical text, with the state table
(null-safe); an events or purchases diff is the rows whose key is not in the ledger. Both flag
invalid rows (null or duplicate key) so they are reported, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbt_braze.config import SyncConfig
from dbt_braze.state import KEY
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
    """The SQL of one users model's diff, and how to read its rows."""

    sql: str
    columns: list[str]  # the model columns selected, in order, after kind and key
    attributes: list[str]  # Braze attribute of each mapped column, same order

    @property
    def width(self) -> int:
        return len(self.columns)


def users_diff(
    wh: Warehouse,
    config: SyncConfig,
    relation: str,
    mapping: dict[str, str],
    state: str | None,
    state_columns: list[str],
    full_refresh: bool = False,
    removed_with_values_only: bool = False,
    state_has_rows: bool = True,
) -> UsersDiff:
    """Rows that are new, changed, invalid or removed, with one changed-flag per attribute.

    Each row: kind, key, typed values..., text values..., changed flags..., and last the
    number of removed users in the whole result (the same on every row), so the caller knows
    it from the first row, before it sends anything. Removed users (in state, gone from the
    model) count only if some attribute is still set when `removed_with_values_only`.
    `state` is None when no state table exists yet (plan before a first sync); with
    `state_has_rows` False nobody can have been removed, and the count is left out: its window
    would make DuckDB hold the whole result, a first sync's every row, in memory.
    """
    q = wh.quote
    cols = list(mapping)
    attrs = [mapping[c] for c in cols]
    src_cols = ", ".join(f"{q(c)} as v{i}" for i, c in enumerate(cols))
    src_text = ", ".join(f"{wh.text(q(c))} as t{i}" for i, c in enumerate(cols))
    sel_src = ", ".join(filter(None, [src_cols, src_text]))
    if state is None:
        attr_sel = ", ".join(f"cast(null as {wh.text_type}) as {q(a)}" for a in attrs)
        state_sql = (
            f"(select cast(null as {wh.text_type}) as {q(KEY)}"
            + (f", {attr_sel}" if attr_sel else "")
            + " where 1 = 0)"
        )
    else:
        state_sql = state

    def state_value(attribute: str) -> str:
        # A column the state does not have yet has never been sent: null to every user.
        if attribute in state_columns:
            return f"s.{q(attribute)}"
        return f"cast(null as {wh.text_type})"

    if full_refresh:
        flags = [
            f"(m.t{i} is not null or {state_value(a)} is not null)" for i, a in enumerate(attrs)
        ]
    else:
        flags = [f"(m.t{i} is distinct from {state_value(a)})" for i, a in enumerate(attrs)]
    changed_any = " or ".join(flags) if flags else "false"
    row_filter = "true" if full_refresh else f"({changed_any})"
    values = ", ".join(f"m.v{i}" for i in range(len(cols)))
    texts = ", ".join(f"m.t{i}" for i in range(len(cols)))
    flag_sel = ", ".join(f"{f} as c{i}" for i, f in enumerate(flags))
    kind = (
        f"case when m.p is null then '{REMOVED}' when m.k is null then '{NULL_ID}' "
        f"when d.k is not null then '{DUPLICATE_ID}' "
        f"when s.{q(KEY)} is null then '{NEW}' else '{CHANGED}' end"
    )
    counted = state is not None and state_has_rows
    removed_count = "sum(case when m.p is null then 1 else 0 end) over ()" if counted else "0"
    select_list = ", ".join(filter(None, [kind, "m.k", values, texts, flag_sel, removed_count]))
    known = [a for a in attrs if a in state_columns]
    removed = _any_set(wh, known) if removed_with_values_only else "true"
    key = key_expression(wh, config)
    # `d` reads the relation itself, not `m`: a CTE used twice is materialized by Postgres,
    # which wrote every row's typed and text values to disk before the join. The full join
    # finds removed users in the same pass, instead of a second join of model and state.
    sql = (
        f"with m as (select 1 as p, {key} as k"
        + (f", {sel_src}" if sel_src else "")
        + f" from {relation}), "
        f"d as (select {key} as k from {relation} where {key} is not null "
        "group by 1 having count(*) > 1) "
        f"select {select_list} from m "
        "left join d on d.k = m.k "
        f"full join {state_sql} s on s.{q(KEY)} = m.k "
        f"where (m.p is not null and (m.k is null or d.k is not null "
        f"or s.{q(KEY)} is null or {row_filter})) "
        f"or (m.p is null and {removed})"
    )
    return UsersDiff(sql=sql, columns=cols, attributes=attrs)


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
