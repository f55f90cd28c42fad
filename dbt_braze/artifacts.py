"""Reading dbt's artifacts (`manifest.json`, `run_results.json`) as plain JSON.

Only the fields dbt-braze needs are read, each with a default, because v12 gains fields in
minor releases and newer writers omit null ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt_braze.errors import ArtifactError
from dbt_braze.log import logger

SUPPORTED_MANIFEST = 12
SUPPORTED_RUN_RESULTS = 6
_VERSION = re.compile(r"/(manifest|run-results)/v(\d+)\.json$")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str | None


@dataclass(frozen=True)
class ModelNode:
    """The parts of a manifest model node dbt-braze works from."""

    unique_id: str
    name: str
    package_name: str
    database: str | None
    schema: str
    alias: str
    relation_name: str | None
    materialized: str
    original_file_path: str
    patch_path: str | None
    tags: frozenset[str]
    meta: dict[str, Any]
    columns: dict[str, Column]

    @property
    def where_defined(self) -> str:
        """The YAML file that configured the model, else its SQL file."""
        if self.patch_path:
            return self.patch_path.split("://", 1)[-1]
        return self.original_file_path


@dataclass(frozen=True)
class Manifest:
    project_name: str
    invocation_id: str | None
    adapter_type: str | None
    models: dict[str, ModelNode]
    path: Path


@dataclass(frozen=True)
class RunResults:
    invocation_id: str | None
    command: str | None
    statuses: dict[str, str] = field(default_factory=dict)


def _load_json(path: Path, what: str, hint: str) -> dict[str, Any]:
    if not path.is_file():
        raise ArtifactError(f"{what} not found at {path}", hint=hint)
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(
            f"{what} at {path} cannot be read: {exc}",
            hint="It may be truncated by an interrupted dbt command; run `dbt parse` again.",
        ) from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{what} at {path} is not a JSON object", hint=hint)
    return data


def _schema_version(data: dict[str, Any], kind: str, path: Path) -> int | None:
    metadata = data.get("metadata")
    url = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    match = _VERSION.search(url) if isinstance(url, str) else None
    if not match or match.group(1) != kind:
        raise ArtifactError(
            f"{path} does not look like a dbt {kind} artifact (no dbt_schema_version)",
            hint="Point --target-path at the folder dbt writes its artifacts to.",
        )
    return int(match.group(2))


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{what} is {type(value).__name__}, not a mapping")
    return value


def _text(node: dict[str, Any], key: str, default: str | None) -> Any:
    value = node.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise TypeError(f"{key} is {type(value).__name__}, not text")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _merged_meta(entry: dict[str, Any]) -> dict[str, Any]:
    # dbt keeps both `meta` and `config.meta`; config wins where both are set.
    merged = dict(_mapping(entry.get("meta"), "meta"))
    config = _mapping(entry.get("config"), "config")
    merged.update(_mapping(config.get("meta"), "config.meta"))
    return merged


def _tags(node: dict[str, Any]) -> frozenset[str]:
    tags: set[str] = set()
    for value in (node.get("tags"), _mapping(node.get("config"), "config").get("tags")):
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        tags.update(v for v in values if isinstance(v, str))
    return frozenset(tags)


def _model(node: dict[str, Any]) -> ModelNode:
    config = _mapping(node.get("config"), "config")
    columns = {}
    for name, col in _mapping(node.get("columns"), "columns").items():
        col = _mapping(col, f"column {name}")
        columns[name] = Column(
            name=_text(col, "name", name), data_type=_text(col, "data_type", None)
        )
    name = _text(node, "name", node["unique_id"].split(".")[-1])
    return ModelNode(
        unique_id=node["unique_id"],
        name=name,
        package_name=_text(node, "package_name", ""),
        database=_text(node, "database", None),
        schema=_text(node, "schema", ""),
        alias=_text(node, "alias", name),
        relation_name=_text(node, "relation_name", None),
        materialized=_text(config, "materialized", "view"),
        original_file_path=_text(node, "original_file_path", ""),
        patch_path=_text(node, "patch_path", None),
        tags=_tags(node),
        meta=_merged_meta(node),
        columns=columns,
    )


def load_manifest(target_path: Path) -> Manifest:
    """Read `<target_path>/manifest.json`; raise ArtifactError with the fix when it can't."""
    path = target_path / "manifest.json"
    data = _load_json(path, "manifest.json", "Run `dbt run` or `dbt parse` first.")
    version = _schema_version(data, "manifest", path)
    if version is not None and version < SUPPORTED_MANIFEST:
        raise ArtifactError(
            f"manifest.json is schema v{version}; dbt-braze reads v{SUPPORTED_MANIFEST} "
            "(dbt-core 1.8 and newer)",
            hint="Upgrade dbt-core to 1.8 or newer and run `dbt parse`.",
        )
    if version is not None and version > SUPPORTED_MANIFEST:
        logger.warning(
            f"manifest.json is schema v{version}, newer than the v{SUPPORTED_MANIFEST} "
            "dbt-braze was tested with; reading it anyway"
        )
    nodes = data.get("nodes")
    if not isinstance(nodes, dict):
        raise ArtifactError(f"{path} has no `nodes` map", hint="Run `dbt parse` again.")
    models = {}
    for unique_id, node in nodes.items():
        if not isinstance(node, dict) or node.get("resource_type") != "model":
            continue
        try:
            models[unique_id] = _model({**node, "unique_id": unique_id})
        except (KeyError, TypeError, AttributeError) as exc:
            raise ArtifactError(
                f"model {unique_id} in {path} is malformed ({exc!r})",
                hint="Run `dbt parse` again to rewrite the manifest.",
            ) from None
    metadata = data.get("metadata") or {}
    return Manifest(
        project_name=_optional_text(metadata, "project_name") or "",
        invocation_id=_optional_text(metadata, "invocation_id"),
        adapter_type=_optional_text(metadata, "adapter_type"),
        models=models,
        path=path,
    )


def load_run_results(target_path: Path) -> RunResults | None:
    """Read `<target_path>/run_results.json` if dbt wrote one; None when it is absent."""
    path = target_path / "run_results.json"
    if not path.exists():
        return None
    data = _load_json(path, "run_results.json", "Run `dbt run` or `dbt build` again.")
    version = _schema_version(data, "run-results", path)
    if version is not None and version != SUPPORTED_RUN_RESULTS:
        logger.warning(f"run_results.json is schema v{version}; reading it anyway")
    results = data.get("results") or []
    if not isinstance(results, list):
        raise ArtifactError(f"{path} has no `results` list", hint="Run `dbt run` again.")
    statuses = {}
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("unique_id"), str):
            statuses[result["unique_id"]] = str(result.get("status") or "")
    metadata = data.get("metadata") or {}
    args = data.get("args")
    args = args if isinstance(args, dict) else {}
    return RunResults(
        invocation_id=_optional_text(metadata, "invocation_id"),
        command=_optional_text(args, "which"),
        statuses=statuses,
    )
