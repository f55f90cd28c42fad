"""Run the real `dbt-braze` command against a copy of the example project and an emulator."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from typing import Any

import duckdb

from dbt_braze.emulator import Emulator
from tests.fixtures.dbt_project import ExampleProject


def braze_env(project: ExampleProject, emulator: Emulator | None) -> dict[str, str]:
    env = dict(project.env)
    if emulator is not None:
        env.update({"BRAZE_API_KEY": emulator.api_key, "BRAZE_REST_ENDPOINT": emulator.url})
    return env


def dbt_braze(
    project: ExampleProject,
    *args: str,
    emulator: Emulator | None = None,
    settings: dict[str, Any] | None = None,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    """`dbt-braze *args` in the project; `settings` go in as `--vars {dbt_braze: ...}`."""
    command = [sys.executable, "-m", "dbt_braze.cli", *args]
    if settings:
        command += ["--vars", json.dumps({"dbt_braze": settings})]
    done = subprocess.run(
        command,
        cwd=project.path,
        env=braze_env(project, emulator),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if expect is not None and done.returncode != expect:
        raise AssertionError(
            f"dbt-braze {' '.join(args)} exited {done.returncode}, expected {expect}:\n"
            f"{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
        )
    return done


def execute(project: ExampleProject, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change data in the project's warehouse, as an upstream change would."""
    if project.pg is not None:
        connection = project.pg.connect()
        with contextlib.closing(connection):
            with connection.cursor() as cursor:
                cursor.execute(sql, params or None)
            connection.commit()
        return
    with duckdb.connect(str(project.duckdb_path)) as connection:
        connection.execute(sql.replace("%s", "?"), list(params))


def profile(emulator: Emulator, external_id: str) -> dict[str, Any]:
    """A user's custom attributes as the emulator holds them (bookkeeping keys dropped)."""
    user = emulator.user(external_id)
    assert user is not None, f"user {external_id} is not in Braze"
    return {k: v for k, v in user.items() if k not in ("braze_id", "external_id", "user_aliases")}
