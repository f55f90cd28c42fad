"""Our in-warehouse diff query alone, and the naive baseline a hand-written script would be.

The diff is the product's own SQL (dbt_braze.diff.users_diff), run as the sync runs it
(dbt_braze.diff.run_users_diff: on Postgres, candidates into a temp table first) and streamed
through the product's warehouse adapter. The naive baseline pulls the model and the last-sent
copy (the state table) into Python dictionaries and compares them there, attribute by
attribute.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.databases import Database
from bench.generate import COLUMNS, ID
from dbt_braze.context import Options, load_context
from dbt_braze.diff import finish_users_diff, run_users_diff, users_diff
from dbt_braze.state import KEY, table_name


def diff_alone(project_dir: Path) -> tuple[float, int]:
    """Seconds to run and stream the product's users diff; the number of rows it returned."""
    options = Options(project_dir=str(project_dir), profiles_dir=str(project_dir))
    context = load_context(options)
    config = context.configs[0]
    wh = context.connect()
    try:
        model = config.model
        relation = wh.relation(model.schema, model.alias)
        model_types = wh.column_types(model.schema, model.alias) or {}
        mapping = config.resolve_attributes(list(model_types))
        schema, name = context.state_schema(), table_name("users", config)
        state_types = wh.column_types(schema, name) or {}
        state = wh.relation(schema, name) if state_types else None
        diff = users_diff(wh, config, relation, mapping, state, state_types, model_types)
        started = time.perf_counter()
        _, batches = run_users_diff(wh, diff)
        rows = sum(len(batch) for batch in batches)
        finish_users_diff(wh, diff)
        return time.perf_counter() - started, rows
    finally:
        wh.close()


def naive(db: Database, model: str, state: str) -> tuple[float, int, int]:
    """Seconds to pull both tables into Python and compare; (changed rows, changed values)."""
    text = "varchar" if db.dialect == "duckdb" else "text"
    started = time.perf_counter()
    with db.cursor() as cur:
        # Values as text on both sides (state columns are typed where the model's are), so
        # the script compares like with like and Python builds only strings.
        cur.execute(
            f"select cast({ID} as {text}), "
            + ", ".join(f"cast({c} as {text})" for c in COLUMNS)
            + f" from {model}"
        )
        current: list[tuple[Any, ...]] = cur.fetchall()
        cur.execute(
            f'select "{KEY}", '
            + ", ".join(f'cast("{c}" as {text})' for c in COLUMNS)
            + f" from {state}"
        )
        sent = {row[0]: row[1:] for row in cur.fetchall()}
    changed_rows = changed_values = 0
    for key, *values in current:
        before = sent.get(key)
        if before is None:
            changed_rows += 1
            changed_values += sum(v is not None for v in values)
            continue
        differ = sum(a != b for a, b in zip(values, before, strict=True))
        if differ:
            changed_rows += 1
            changed_values += differ
    return time.perf_counter() - started, changed_rows, changed_values
