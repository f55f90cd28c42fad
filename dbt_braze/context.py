"""Everything a command needs before it touches Braze: project, manifest, selected configs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbt_braze.artifacts import Manifest, RunResults, load_manifest, load_run_results
from dbt_braze.config import SyncConfig, check_columns, parse_model
from dbt_braze.errors import ConfigError
from dbt_braze.log import logger
from dbt_braze.project import Project, load_project
from dbt_braze.selection import dbt_ls
from dbt_braze.warehouse import Target, Warehouse, connect, resolve_target


@dataclass
class Options:
    """The flags shared by every command, named as dbt names them."""

    project_dir: str | None = None
    profiles_dir: str | None = None
    profile: str | None = None
    target: str | None = None
    target_path: str | None = None
    vars: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    selector: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    options: Options
    project: Project
    manifest: Manifest
    run_results: RunResults | None
    configs: list[SyncConfig]
    problems: list[str] = field(default_factory=list)
    _target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = resolve_target(self.project, self.options.target)
        return self._target

    def connect(self) -> Warehouse:
        return connect(self.target)

    def state_schema(self) -> str:
        return self.project.settings.get("state_schema") or f"{self.target.schema}_braze"


def load_context(options: Options, *, strict: bool = True) -> Context:
    """Read the project and manifest, select Braze models and check their configs' shape.

    With `strict`, any problem raises ConfigError; otherwise problems are kept on the context
    (validate adds the warehouse's findings and reports them all together)."""
    project = load_project(
        options.project_dir,
        options.profiles_dir,
        options.profile,
        options.target_path,
        options.vars,
    )
    manifest = load_manifest(project.target_path)
    models = [m for m in manifest.models.values() if "braze" in m.meta]
    if options.select or options.exclude or options.selector:
        chosen = dbt_ls(
            project,
            options.select,
            options.exclude,
            options.selector,
            options.target,
            options.vars,
        )
        models = [m for m in models if m.unique_id in chosen]
    models.sort(key=lambda m: m.unique_id)
    configs, problems = [], []
    for model in models:
        config, found = parse_model(model)
        problems += found
        if config:
            configs.append(config)
    if problems and strict:
        raise ConfigError(problems, hint="Fix the meta.braze blocks above; nothing was sent.")
    run_results = load_run_results(project.target_path)
    return Context(options, project, manifest, run_results, configs, problems)


def relation_columns(warehouse: Warehouse, config: SyncConfig) -> list[str] | None:
    return warehouse.columns(config.model.schema, config.model.alias)


def check_against_warehouse(context: Context, warehouse: Warehouse) -> list[str]:
    """Every config problem that only the warehouse's real columns reveal."""
    problems = []
    for config in context.configs:
        columns = relation_columns(warehouse, config)
        if columns is None:
            problems.append(
                f"model {config.name} ({config.model.where_defined}): relation "
                f"{config.model.relation_name} does not exist in target {context.target.name}. "
                f"Run `dbt run -s {config.name}` first."
            )
            continue
        problems += check_columns(config, columns)
    if problems:
        logger.debug("%d warehouse problems", len(problems))
    return problems
