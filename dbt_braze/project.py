"""The user's dbt project as dbt-braze needs it: paths, profile name and `vars.dbt_braze`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dbt_braze.errors import ConfigError, UsageError

SETTING_DEFAULTS: dict[str, Any] = {
    "state_schema": None,  # default: <target schema>_braze
    "objects_per_request": 75,
    "combined_object_limit": True,
    "rate_limit": 3000,
    "rate_window_seconds": 3.0,
    "max_retries": 8,
    "concurrency": 8,
    "timeout_seconds": 30.0,
    "mass_delete_threshold": 0.10,
    "allow_insecure_http": False,
    "state_commit_every": 5000,
}


@dataclass(frozen=True)
class Project:
    path: Path
    profile_name: str
    target_path: Path
    profiles_dir: Path
    settings: dict[str, Any] = field(default_factory=dict)
    cli_vars: dict[str, Any] = field(default_factory=dict)


def _find_project_dir(project_dir: str | None) -> Path:
    if project_dir:
        path = Path(project_dir).expanduser().resolve()
        if not (path / "dbt_project.yml").is_file():
            raise UsageError(
                f"no dbt_project.yml in {path}", hint="Pass --project-dir of a dbt project."
            )
        return path
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise UsageError(
        "no dbt_project.yml in this folder or its parents",
        hint="Run dbt-braze inside a dbt project or pass --project-dir.",
    )


def parse_vars(text: str | None) -> dict[str, Any]:
    """`--vars` takes a YAML mapping, as in dbt."""
    if not text:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"--vars is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError("--vars must be a YAML mapping, e.g. '{dbt_braze: {rate_limit: 100}}'")
    return data


def _settings(project_vars: Any, cli_vars: dict[str, Any]) -> dict[str, Any]:
    merged = dict(SETTING_DEFAULTS)
    for source in ((project_vars or {}).get("dbt_braze"), cli_vars.get("dbt_braze")):
        if source is None:
            continue
        if not isinstance(source, dict):
            raise ConfigError("vars.dbt_braze must be a mapping of settings")
        unknown = sorted(set(source) - set(SETTING_DEFAULTS))
        if unknown:
            raise ConfigError(
                f"vars.dbt_braze: unknown setting(s) {', '.join(unknown)}",
                hint=f"Known settings: {', '.join(SETTING_DEFAULTS)}.",
            )
        merged.update(source)
    return merged


def load_project(
    project_dir: str | None = None,
    profiles_dir: str | None = None,
    profile: str | None = None,
    target_path: str | None = None,
    vars_text: str | None = None,
) -> Project:
    """Locate the project and read what dbt-braze needs from `dbt_project.yml`."""
    path = _find_project_dir(project_dir or os.environ.get("DBT_PROJECT_DIR"))
    try:
        data = yaml.safe_load((path / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path / 'dbt_project.yml'} cannot be read: {exc}") from None
    profile_name = profile or os.environ.get("DBT_PROFILE") or data.get("profile")
    if not profile_name:
        raise ConfigError("dbt_project.yml names no profile", hint="Add `profile:` or --profile.")
    target_dir = target_path or os.environ.get("DBT_TARGET_PATH") or data.get("target-path")
    resolved_target = path / (target_dir or "target")
    profiles = profiles_dir or os.environ.get("DBT_PROFILES_DIR")
    if profiles:
        profiles_path = Path(profiles).expanduser().resolve()
    elif (Path.cwd() / "profiles.yml").is_file():
        profiles_path = Path.cwd().resolve()
    elif (path / "profiles.yml").is_file():
        profiles_path = path
    else:
        profiles_path = Path.home() / ".dbt"
    cli_vars = parse_vars(vars_text)
    return Project(
        path=path,
        profile_name=str(profile_name),
        target_path=resolved_target,
        profiles_dir=profiles_path,
        settings=_settings(data.get("vars"), cli_vars),
        cli_vars=cli_vars,
    )
