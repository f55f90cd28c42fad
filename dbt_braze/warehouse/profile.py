"""Resolve the user's dbt profile and target into connection credentials, the way dbt does.

dbt's own profile renderer is used, so `env_var()`, `var()` and every credential field behave
exactly as in `dbt run`; only the connection itself is opened by dbt-braze.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from dbt_braze.errors import ConfigError
from dbt_braze.log import register_secret
from dbt_braze.project import Project

SUPPORTED = ("postgres", "duckdb")


@dataclass(frozen=True)
class Target:
    name: str
    type: str
    schema: str
    database: str | None
    credentials: Any  # dbt's adapter credentials object
    threads: int


def resolve_target(project: Project, target: str | None) -> Target:
    """Render `profiles.yml` for the project's profile and pick the target."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    set_invocation_context(os.environ)
    set_from_args(argparse.Namespace(profiles_dir=str(project.profiles_dir)), {})
    try:
        raw = read_profile(str(project.profiles_dir))
        if not raw:
            raise ConfigError(
                f"no profiles.yml found in {project.profiles_dir}",
                hint="Pass --profiles-dir or set DBT_PROFILES_DIR.",
            )
        profile = Profile.from_raw_profiles(
            raw_profiles=raw,
            profile_name=project.profile_name,
            renderer=ProfileRenderer(project.cli_vars),
            target_override=target or os.environ.get("DBT_TARGET"),
        )
    except DbtBaseException as exc:
        raise ConfigError(f"dbt profile: {str(exc).strip()}") from None
    credentials = profile.credentials
    register_secret(getattr(credentials, "password", None))
    if credentials.type not in SUPPORTED:
        raise ConfigError(
            f"target {profile.target_name} uses the {credentials.type} adapter",
            hint=f"dbt-braze supports {', '.join(SUPPORTED)} so far.",
        )
    return Target(
        name=profile.target_name,
        type=credentials.type,
        schema=credentials.schema,
        database=getattr(credentials, "database", None),
        credentials=credentials,
        threads=profile.threads,
    )
