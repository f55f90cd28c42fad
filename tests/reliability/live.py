"""Start `dbt-braze sync` in the background and watch it from the test, for cuts and races."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from dbt_braze.emulator import Emulator
from tests.braze_cli import braze_env
from tests.fixtures.dbt_project import ExampleProject

WAIT_SECONDS = 120


def start_sync(
    project: ExampleProject, emulator: Emulator, settings: dict[str, Any], *args: str
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "dbt_braze.cli", "sync", *args]
    command += ["--vars", json.dumps({"dbt_braze": settings})]
    return subprocess.Popen(
        command,
        cwd=project.path,
        env=braze_env(project, emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    """Poll until `condition` holds; fail with the process output if it ends first."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"sync ended before {what}:\n{process.communicate()[0][-4000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=600)
    return process.returncode, output
