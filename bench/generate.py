"""The benchmark's users model: N rows of 10 mixed-type attributes, built and mutated in SQL.

Everything is arithmetic on the row id and the seed, so Postgres and DuckDB make the same
rows and the same mutations, and a run can be repeated exactly.
"""

from __future__ import annotations

ID = "user_id"
# (column, SQL that gives the column a new value when the row is mutated)
ATTRIBUTES: list[tuple[str, str]] = [
    ("first_name", "first_name || '*'"),
    ("email", "'m{seed}.' || email"),
    ("country", "case when country = 'GB' then 'IE' else 'GB' end"),
    ("ltv", "ltv + 1"),
    ("orders", "orders + 1"),
    ("is_vip", "not is_vip"),
    ("email_opt_in", "not email_opt_in"),
    ("signup_date", "signup_date + 1"),
    ("last_seen_at", "last_seen_at + interval '1 hour'"),
    ("nickname", "case when nickname is null then 'nick-m' || user_id end"),
]
COLUMNS = [name for name, _ in ATTRIBUTES]
_SCALE = 1_000_003  # a prime: row selection spreads evenly over ids


def create_sql(dialect: str, table: str, rows: int) -> str:
    """CREATE TABLE ... AS: `rows` users with strings, numbers, booleans, dates, a nullable."""
    names = "array['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Ken']"
    countries = "array['GB','FR','US','DE','JP']"
    if dialect == "duckdb":
        names, countries = names[5:], countries[5:]  # DuckDB's list literal: [...]
    return (
        f"create table {table} as select i as {ID}, "
        f"({names})[1 + i % 8] as first_name, "
        "'user' || i || '@example.com' as email, "
        f"({countries})[1 + i % 5] as country, "
        "cast(((i * 7919) % 100000) / 100.0 as numeric(12, 2)) as ltv, "
        "cast((i * 31) % 200 as integer) as orders, "
        "i % 7 = 0 as is_vip, "
        "i % 3 <> 0 as email_opt_in, "
        "date '2020-01-01' + cast(i % 1500 as integer) as signup_date, "
        "timestamp '2024-01-01' + (i % 525600) * interval '1 minute' as last_seen_at, "
        "case when i % 10 < 3 then 'nick' || i end as nickname "
        # bigint: i * 7919 overflows Postgres' integer beyond 270k rows.
        f"from (select cast(g.i as bigint) as i from generate_series(1, {rows}) as g(i)) s"
    )


def mutated_rows(seed: int, share: float) -> str:
    """The predicate of the rows that mutation `seed` changes (about `share` of them)."""
    return f"(({ID} * 2654435761 + {seed} * 40503) % {_SCALE}) < {int(share * _SCALE)}"


def _changes_attribute(seed: int, index: int, per_row: int) -> str:
    # A mutated row changes `per_row` consecutive attributes, starting at a row-chosen one.
    return f"(({index} - ({ID} + {seed}) % 10 + 10) % 10) < {per_row}"


def mutate_sql(table: str, seed: int, share: float, per_row: int) -> str:
    """UPDATE that changes `per_row` of the 10 attributes in about `share` of the rows."""
    sets = ", ".join(
        f"{name} = case when {_changes_attribute(seed, i, per_row)} "
        f"then {expression.format(seed=seed)} else {name} end"
        for i, (name, expression) in enumerate(ATTRIBUTES)
    )
    return f"update {table} set {sets} where {mutated_rows(seed, share)}"


def non_null_sql(table: str, where: str = "true") -> str:
    """(rows, non-null attribute values) of the rows matching `where`."""
    values = " + ".join(f"cast({c} is not null as integer)" for c in COLUMNS)
    return f"select count(*), coalesce(sum({values}), 0) from {table} where {where}"
