"""Figures of the reliability runs, appended to .tmp/reliability.json for docs/reliability.md.

Each test records what it did (runs, faults injected, objects lost, duplicates); `python -m
tests.reliability.figures` prints the table pasted into the docs.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

FIGURES = Path(__file__).resolve().parents[2] / ".tmp" / "reliability.json"


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
    columns = ["runs", "faults", "objects", "lost", "duplicates", "reported", "at"]
    lines = ["| test | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for test, figures in sorted(data.items()):
        cells = [str(figures.get(c, "")) for c in columns]
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if not FIGURES.exists():
        sys.exit(f"no figures yet at {FIGURES}: run the reliability tests first")
    print(render(json.loads(FIGURES.read_text())))
