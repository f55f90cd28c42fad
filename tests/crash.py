"""SIGKILL a running `dbt-braze sync` at chosen points, for the crash-safety tests.

A kill point is a number of Braze requests the emulator must have answered in this run
before the process is killed (0: kill during start-up and the diff, at the latest when the
first request arrives). Each rerun resumes where the last kill left it, so a test's kill
points must add up to less than its sync's requests, or the last ones find nothing to kill.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from dbt_braze.emulator import Emulator
from tests.braze_cli import braze_env
from tests.fixtures.dbt_project import ExampleProject

CROWD_USERS = 3000
CROWD_EVENTS = 3000

CROWD_MODELS = {
    "braze_crowd.sql": """
{{ config(materialized='table') }}
select i as user_id, 'user ' || cast(i as varchar) as full_name, i % 7 as bucket,
       (i % 2 = 0) as is_even, cast(i * 1.5 as decimal(12, 2)) as score
from """,
    "braze_crowd_events.sql": """
{{ config(materialized='table') }}
select i as event_key, (i % 500) + 1 as user_id,
       timestamp '2025-01-01 00:00:00' + i * interval '1 minute' as happened_at,
       i % 10 as amount
from """,
}
CROWD_YAML = """
models:
  - name: braze_crowd
    config:
      meta:
        braze:
          type: users
          external_id: user_id
          attributes: [full_name, bucket, is_even, score]
  - name: braze_crowd_events
    config:
      meta:
        braze:
          type: events
          external_id: user_id
          event_id: event_key
          name: crowd_event
          time: happened_at
          properties: [event_key, amount]
"""


def add_crowd_model(project: ExampleProject, model: str) -> None:
    """Thousands of users or events, generated in the warehouse itself, as the project's only
    Braze model (so a plain `dbt-braze sync` needs no `dbt ls` to select it)."""
    for folder in ("users", "activity"):
        shutil.rmtree(project.path / "models" / folder)
    folder = project.path / "models" / "crowd"
    folder.mkdir()
    for name, sql in CROWD_MODELS.items():
        if name != f"{model}.sql":
            continue
        size = CROWD_USERS if name == "braze_crowd.sql" else CROWD_EVENTS
        series = (
            f"range(1, {size + 1}) t(i)"
            if project.target == "duckdb"
            else f"generate_series(1, {size}) as t(i)"
        )
        (folder / name).write_text(sql + series + "\n")
    blocks = CROWD_YAML.split("  - name: ")
    keep = [b for b in blocks[1:] if b.startswith(model + "\n")]
    (folder / "_crowd.yml").write_text(blocks[0] + "  - name: " + keep[0])


# Slow enough that a sync takes a few seconds, so kills land all through it.
SLOW = {"rate_limit": 25, "rate_window_seconds": 1, "concurrency": 4, "state_commit_every": 150}


@dataclass
class KillReport:
    kills: int = 0
    killed_before_any_request: int = 0
    finished_before_kill: int = 0
    requests_at_kill: list[int] = field(default_factory=list)


def sync_command(*args: str, settings: dict[str, Any]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dbt_braze.cli",
        "sync",
        *args,
        "--vars",
        json.dumps({"dbt_braze": settings}),
    ]


def kill_at(
    project: ExampleProject,
    emulator: Emulator,
    args: tuple[str, ...],
    settings: dict[str, Any],
    requests: int,
    seconds: float = 60.0,
) -> bool:
    """Start a sync, SIGKILL it once the emulator saw `requests` more requests (when requests
    is 0: at `seconds` or the first request, whichever comes first). True if it was killed,
    False if it finished first."""
    start = emulator.stats()["requests"]
    process = subprocess.Popen(
        sync_command(*args, settings=settings),
        cwd=project.path,
        env=braze_env(project, emulator),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + (seconds if requests == 0 else 120)
    try:
        while process.poll() is None and time.monotonic() < deadline:
            # Point 0 must not wait a fixed time: a quick machine sends much in 2.5 s.
            if emulator.stats()["requests"] - start >= max(requests, 1):
                break
            time.sleep(0.005)
        if process.poll() is not None:
            return False
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
