"""Malformed or truncated `manifest.json` and `run_results.json`: ArtifactError naming the file
and the fix, never a traceback; through the CLI, exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbt_braze.artifacts import load_manifest, load_run_results
from dbt_braze.errors import ArtifactError
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject

MANIFEST_URL = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RESULTS_URL = "https://schemas.getdbt.com/dbt/run-results/v6.json"
NODE = {
    "resource_type": "model",
    "name": "braze_users",
    "package_name": "shop",
    "schema": "analytics",
    "alias": "braze_users",
    "relation_name": '"analytics"."braze_users"',
    "original_file_path": "models/braze_users.sql",
    "config": {"materialized": "table", "meta": {"braze": {"type": "users"}}, "tags": ["x"]},
    "columns": {"customer_id": {"name": "customer_id", "data_type": "integer"}},
    "tags": ["braze"],
    "meta": {},
}
MANIFEST = {
    "metadata": {"dbt_schema_version": MANIFEST_URL, "project_name": "shop"},
    "nodes": {"model.shop.braze_users": NODE},
}
RESULTS = {
    "metadata": {"dbt_schema_version": RESULTS_URL, "invocation_id": "abc"},
    "args": {"which": "run"},
    "results": [{"unique_id": "model.shop.braze_users", "status": "success"}],
}

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def _mutations(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    paths = _paths(document)
    return st.tuples(st.sampled_from(paths), json_values).map(
        lambda pair: _replace(document, pair[0], pair[1])
    )


def _load(folder: Path, name: str, text: str) -> Any:
    (folder / name).write_text(text)
    return (load_manifest if name == "manifest.json" else load_run_results)(folder)


def _clear(exc: ArtifactError, name: str) -> None:
    assert name in str(exc) or "artifact" in str(exc), str(exc)
    assert exc.hint, "every artifact error says what to do"
    assert exc.exit_code == 2


settings_ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize(
    ("name", "document"), [("manifest.json", MANIFEST), ("run_results.json", RESULTS)]
)
@settings_
@given(cut=st.floats(min_value=0, max_value=0.999))
def test_truncated_artifacts_are_refused(
    tmp_path: Path, name: str, document: dict[str, Any], cut: float
) -> None:
    text = json.dumps(document)
    with pytest.raises(ArtifactError) as caught:
        _load(tmp_path, name, text[: int(len(text) * cut)])
    _clear(caught.value, name)


@pytest.mark.parametrize(
    ("name", "document"), [("manifest.json", MANIFEST), ("run_results.json", RESULTS)]
)
@settings_
@given(data=st.data())
def test_malformed_artifacts_load_cleanly_or_are_refused(
    tmp_path: Path, name: str, document: dict[str, Any], data: st.DataObject
) -> None:
    mutated = data.draw(_mutations(document))
    try:
        loaded = _load(tmp_path, name, json.dumps(mutated))
    except ArtifactError as exc:
        _clear(exc, name)
        return
    if name == "manifest.json":
        for model in loaded.models.values():
            text_fields = (model.unique_id, model.name, model.schema, model.alias)
            assert all(isinstance(v, str) for v in text_fields), model
            assert isinstance(model.meta, dict) and isinstance(model.materialized, str)
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.statuses.items())


@pytest.mark.parametrize(
    "text",
    ["", "{", "null", "[]", '{"metadata": {}}', "\x00\xff garbage", json.dumps(MANIFEST)[:-1]],
)
def test_broken_manifest_through_the_cli(duckdb_project_parsed: ExampleProject, text: str) -> None:
    project = duckdb_project_parsed
    manifest = project.path / "target" / "manifest.json"
    good = manifest.read_bytes()
    try:
        manifest.write_text(text, errors="surrogateescape")
        for command in ("sync", "plan", "validate"):
            done = dbt_braze(project, command, expect=2)
            output = done.stdout + done.stderr
            assert "Traceback" not in output and "ArtifactError" in output, output
            assert "manifest.json" in output
    finally:
        manifest.write_bytes(good)


@pytest.fixture(scope="module")
def duckdb_project_parsed(
    example_project_factory: Callable[..., ExampleProject],
) -> ExampleProject:
    project = example_project_factory("duckdb", name="artifacts")
    project.dbt("parse")
    return project
