"""`meta.braze` blocks of every wrong shape: a list of problems naming model, key and fix,
never an exception of another kind."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbt_braze.artifacts import ModelNode
from dbt_braze.config import COMMON_KEYS, TYPE_KEYS, check_columns, parse_model

KEYS = [*sorted(COMMON_KEYS | set().union(*TYPE_KEYS.values())), "typo", "attribute", ""]
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["users", "events", "purchases", "all", "none", "unset", "delete", "USD"]),
    st.sampled_from(["customer_id", "order_id", "ordered_at", "price", "Customer ID"]),
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=3),
    ),
    max_leaves=12,
)
blocks = st.one_of(
    values,
    st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["users", "events", "purchases"]), values)},
        optional={key: values for key in KEYS if key != "type"},
    ),
)


def _model(block: Any, materialized: str = "table") -> ModelNode:
    return ModelNode(
        unique_id="model.shop.braze_thing",
        name="braze_thing",
        package_name="shop",
        database=None,
        schema="analytics",
        alias="braze_thing",
        relation_name='"analytics"."braze_thing"',
        materialized=materialized,
        original_file_path="models/braze_thing.sql",
        patch_path="shop://models/_braze.yml",
        tags=frozenset(),
        meta={"braze": block},
        columns={},
    )


def _assert_clear(problems: list[str]) -> None:
    assert problems
    for problem in problems:
        assert problem.startswith("model braze_thing (models/_braze.yml): meta.braze"), problem
        assert "Traceback" not in problem


@settings(max_examples=600, deadline=None)
@given(blocks)
def test_any_block_gets_a_config_or_clear_problems(block: Any) -> None:
    config, problems = parse_model(_model(block))
    if config is None:
        _assert_clear(problems)
        return
    assert problems == []
    # A config that parsed can be checked against real columns without surprises.
    _assert_clear(check_columns(config, ["x"]))
    assert check_columns(config, config.used_columns()) == []


@pytest.mark.parametrize(
    ("block", "key", "fix"),
    [
        ({"type": ["users"], "external_id": "id"}, "meta.braze.type", "Set `type`"),
        ({"type": "users", "external_id": "id", "atributes": ["a"]}, "atributes", "attributes"),
        ({"type": "users", "external_id": "id", "email": "e"}, "external_id", "Keep one of"),
        ({"type": "users", "external_id": ["id"]}, "external_id", "Name a column"),
        ({"type": "users", "external_id": "id", "on_delete": "drop"}, "on_delete", "ignore"),
        ({"type": "users", "external_id": "id", "merge_objects": "yes"}, "merge_objects", "true"),
        ({"type": "events", "external_id": "id", "event_id": "e", "time": "t",
          "name_column": ["n"]}, "name_column", "column"),
        ({"type": "purchases", "external_id": "id", "purchase_id": "p", "time": "t",
          "product_id": "p", "price": "p", "currency_column": {"a": 1}}, "currency_column",
         "column"),
        ({"type": "events", "external_id": "id", "event_id": "e", "time": "t", "name": "x",
          "backfill": {"since": "last tuesday"}}, "backfill", "since: 2025-01-01"),
        ({"type": "users", "user_alias": {"name": "n", "label_column": 7}}, "user_alias",
         "label"),
        ({"type": "users", "external_id": "id", "attributes": {"a": 1}}, "attributes", "col_a"),
    ],
)  # fmt: skip
def test_wrong_shapes_name_the_key_and_the_fix(block: dict[str, Any], key: str, fix: str) -> None:
    config, problems = parse_model(_model(block))
    assert config is None
    _assert_clear(problems)
    assert any(key in p and fix in p for p in problems), problems


def test_ephemeral_model_and_backfill_dates() -> None:
    block = {"type": "users", "external_id": "id"}
    config, problems = parse_model(_model(block, materialized="ephemeral"))
    assert config is None and "Materialize it" in problems[0]
    events = {"type": "events", "external_id": "id", "event_id": "e", "time": "t", "name": "x"}
    for since in ("2025-01-01", dt.date(2025, 1, 1), dt.datetime(2025, 1, 1, 8)):
        config, problems = parse_model(_model({**events, "backfill": {"since": since}}))
        assert config is not None and config.backfill.since == dt.date(2025, 1, 1), problems
