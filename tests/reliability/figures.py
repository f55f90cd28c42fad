"""Figures of the reliability runs, appended to .tmp/reliability.json for docs/reliability.md.

Each test records what it did (runs, faults injected, objects lost, duplicates); `python -m
tests.reliability.figures` prints them as a table, and with `--write` puts that table into
docs/reliability.md between its figures markers.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / ".tmp" / "reliability.json"
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def record(test: str, **figures: Any) -> None:
    """Store one test's figures under its name (the latest run of a test wins)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures["at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    figures["long"] = bool(os.environ.get("DBT_BRAZE_LONG"))
    # Tests may run in parallel workers: one writer at a time.
    with FIGURES.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = {}
        if FIGURES.exists():
            try:
                data = json.loads(FIGURES.read_text())
            except ValueError:
                data = {}
        data[test] = figures
        tmp = FIGURES.with_suffix(f".{os.getpid()}.part")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(FIGURES)


def render(data: dict[str, Any]) -> str:
    """A markdown table of every recorded test's figures."""
    columns = ["runs", "faults", "objects", "lost", "duplicates", "reported", "long", "at"]
    lines = ["| test | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for test, figures in sorted(data.items()):
        cells = [str(figures.get(c, "")) for c in columns]
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(table: str) -> None:
    """Replace the table between the markers of docs/reliability.md."""
    text = DOC.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if not rest or END not in rest:
        sys.exit(f"{DOC} has no {START} ... {END} markers")
    DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    if not FIGURES.exists():
        sys.exit(f"no figures yet at {FIGURES}: run the reliability tests first")
    table = render(json.loads(FIGURES.read_text()))
    print(table)
    if "--write" in sys.argv[1:]:
        write(table)
        print(f"wrote {DOC}")
