"""Model selection with dbt's own semantics: `dbt ls` answers, we intersect with Braze models.

dbt runs in a subprocess so its global flags and logging never mix with ours, and with
`--no-write-json` so the artifacts of the user's last `dbt run` stay as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence

from dbt_braze.errors import UsageError
from dbt_braze.project import Project


def dbt_ls(
    project: Project,
    select: Sequence[str],
    exclude: Sequence[str],
    selector: str | None,
    target: str | None,
    vars_text: str | None,
) -> set[str]:
    """unique_ids of the models `dbt ls` selects with the same flags."""
    command = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        "ls",
        "--resource-type",
        "model",
        "--output",
        "json",
        "--output-keys",
        "unique_id",
        "--no-write-json",
        "--quiet",
        "--project-dir",
        str(project.path),
        "--profiles-dir",
        str(project.profiles_dir),
        "--profile",
        project.profile_name,
    ]
    for flag, values in (("--select", select), ("--exclude", exclude)):
        if values:
            command += [flag, *values]
    if selector:
        command += ["--selector", selector]
    if target:
        command += ["--target", target]
    if vars_text:
        command += ["--vars", vars_text]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # dbt resolves relative paths from the project folder, so run it there.
    done = subprocess.run(
        command, cwd=project.path, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        detail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise UsageError(
            "dbt could not resolve the selection: " + " | ".join(detail),
            hint="Check --select/--exclude/--selector; they follow `dbt ls` syntax.",
        )
    selected = set()
    for line in done.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                selected.add(json.loads(line)["unique_id"])
            except (ValueError, KeyError):
                continue
    return selected
