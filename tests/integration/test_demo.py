"""`make demo` on a fresh clone: it runs to the end and says what it did, in numbers.

The demo writes into example_project/ (target/, dbt_packages/, logs/, and `dbt deps` may touch
package-lock.yml), so it runs as the Makefile runs it (`python -m dbt_braze.demo` from the repo
root) but in a copy of the repository's tracked files: what a fresh clone would hold.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from tests.fixtures.dbt_project import REPO_ROOT

DEMO_TIMEOUT_SECONDS = 900
SEEDS = ("customers", "orders", "order_items")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NOT_IN_A_CLONE = {".venv", ".git", "target", "dbt_packages", "logs", "__pycache__"}


def _fresh_clone(destination: Path) -> Path:
    """The repository's tracked files (as they are in the working tree), copied to a new
    folder: what `git clone` gives, without generated folders or a virtual environment."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:  # not a git checkout: copy the tree without generated folders
        shutil.copytree(
            REPO_ROOT,
            destination,
            ignore=lambda _, names: {
                n for n in names if n in _NOT_IN_A_CLONE or n.endswith((".duckdb", ".wal"))
            },
        )
        return destination
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def _rows(csv_path: Path) -> int:
    with csv_path.open(newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def _clean_env() -> dict[str, str]:
    """A shell's environment without anything pointing dbt or dbt-braze elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "BRAZE_"))}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def test_make_demo_runs_on_a_fresh_clone_and_reports_what_it_did(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path / "clone")
    seeds = clone / "example_project" / "seeds"
    customers, orders, items = (_rows(seeds / f"{name}.csv") for name in SEEDS)
    before = _snapshot(REPO_ROOT / "example_project")

    done = subprocess.run(
        [sys.executable, "-m", "dbt_braze.demo"],
        cwd=clone,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
    )
    out, err = _ANSI.sub("", done.stdout), _ANSI.sub("", done.stderr)
    report = f"exit {done.returncode}\n--- stdout\n{out[-8000:]}\n--- stderr\n{err[-4000:]}"

    assert done.returncode == 0, report
    assert "Traceback (most recent call last)" not in out + err, report
    lines = [line.strip() for line in out.strip().splitlines()]
    summary = "\n".join(lines[-4:])
    # The whole seed goes once: one user per customer, one event per order, one purchase per
    # order item.
    first = re.search(
        r"^Done\. First sync: (\d+) users, (\d+) events and (\d+) purchases in (\d+) requests "
        r"\((\d+) data points\)\.$",
        summary,
        re.M,
    )
    assert first, report
    users, events, purchases, requests, points = map(int, first.groups())
    assert (users, events, purchases) == (customers, orders, items), summary
    # Customer 7 upgrades (plan) and orders once more (ltv, order_count, last_order_at): four
    # attributes of one user, one new event and one new purchase, in one request per model.
    assert re.search(
        r"^Second sync after the change: 3 requests, 6 data points \(the changed attributes, "
        r"the new event and purchase\), not a full resend\.$",
        summary,
        re.M,
    ), report
    assert re.search(r"^Third sync, nothing changed: 0 requests\.$", summary, re.M), report
    database = clone / "example_project" / "target" / "demo.duckdb"
    assert lines[-1] == f"State and run log are in {database} (schema analytics_braze).", report

    # The numbers printed are the ones the run log recorded, run by run.
    with duckdb.connect(str(database), read_only=True) as connection:
        runs = connection.execute(
            "select run_id, model_id, rows_new, rows_changed, rows_unchanged, objects_sent, "
            "requests, data_points, status from analytics_braze.run_log "
            "order by started_at, model_id"
        ).fetchall()
    by_run: dict[str, list[tuple[Any, ...]]] = {}
    for run_id, *row in runs:
        by_run.setdefault(run_id, []).append(tuple(row))
    assert [len(rows) for rows in by_run.values()] == [3, 3, 3], runs
    assert all(row[-1] == "success" for row in runs), runs
    first_run, second_run, third_run = by_run.values()
    assert sum(row[5] for row in first_run) == requests, first_run
    assert sum(row[6] for row in first_run) == points > users + events + purchases, first_run
    second = {row[0].rsplit(".", 1)[-1]: row[1:7] for row in second_run}
    assert second == {
        "braze_order_events": (1, 0, orders, 1, 1, 1),
        "braze_purchases": (1, 0, items, 1, 1, 1),
        "braze_users": (0, 1, customers - 1, 1, 1, 4),
    }, second_run
    assert all(row[4] == row[5] == 0 for row in third_run), third_run

    # What Braze holds for customer 7 is printed as JSON, after the upgrade and the new order.
    start = out.index("What Braze (the emulator) now holds for customer 7")
    profile_text = out[out.index("{", start) : out.index("\n}", start) + 2]
    profile = json.loads(profile_text)
    assert profile["external_id"] == "7" and profile["plan"] == "enterprise", profile_text

    assert _snapshot(REPO_ROOT / "example_project") == before, "the demo wrote into the checkout"
