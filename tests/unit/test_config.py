"""meta.braze parsing: every problem names the model, the key and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from dbt_braze.artifacts import ModelNode
from dbt_braze.config import check_columns, parse_model


def _model(braze: Any, materialized: str = "table") -> ModelNode:
    return ModelNode(
        unique_id="model.shop.braze_users",
        name="braze_users",
        package_name="shop",
        database="db",
        schema="analytics",
        alias="braze_users",
        relation_name=None if materialized == "ephemeral" else '"db"."analytics"."braze_users"',
        materialized=materialized,
        original_file_path="models/braze_users.sql",
        patch_path="shop://models/braze.yml",
        tags=frozenset(),
        meta={"braze": braze},
        columns={},
    )


def test_a_full_users_block_parses() -> None:
    config, problems = parse_model(
        _model(
            {
                "type": "users",
                "external_id": "customer_id",
                "attributes": {"first_name": "first_name", "ltv": "lifetime_value"},
                "on_delete": "delete",
                "update_existing_only": True,
            }
        )
    )
    assert problems == []
    assert config is not None
    assert config.identifier.kind == "external_id" and config.identifier.column == "customer_id"
    assert config.attributes == {"first_name": "first_name", "ltv": "lifetime_value"}
    assert config.on_delete == "delete" and config.update_existing_only is True
    assert config.used_columns() == ["customer_id", "first_name", "ltv"]


def test_a_list_of_attributes_keeps_names_and_omitted_means_all_other_columns() -> None:
    listed, _ = parse_model(_model({"type": "users", "external_id": "id", "attributes": ["a"]}))
    assert listed is not None and listed.attributes == {"a": "a"}
    omitted, _ = parse_model(_model({"type": "users", "external_id": "id"}))
    assert omitted is not None
    assert omitted.resolve_attributes(["id", "a", "b"]) == {"a": "a", "b": "b"}


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "user"}, "meta.braze.type: expected users, events or purchases"),
        ({"type": "users"}, "external_id: exactly one identifier is needed, found none"),
        (
            {"type": "users", "external_id": "a", "braze_id": "b"},
            "found external_id, braze_id. Keep one of",
        ),
        (
            {"type": "users", "external_id": "a", "on_delet": "unset"},
            "meta.braze.on_delet: unknown key for a users model. Did you mean `on_delete`?",
        ),
        ({"type": "users", "email": "e", "on_delete": "delete"}, "Braze deletes users by"),
        ({"type": "users", "external_id": "a", "on_delete": "drop"}, "meta.braze.on_delete"),
        ({"type": "events", "external_id": "a", "time": "t", "name": "n"}, "event_id: missing"),
        (
            {"type": "events", "external_id": "a", "event_id": "k", "time": "t"},
            "needs exactly one of `name` or `name_column`",
        ),
        (
            {"type": "events", "external_id": "a", "event_id": "k", "time": "t", "name": "n",
             "backfill": "some"},
            "meta.braze.backfill: expected all, none or {since: YYYY-MM-DD}",
        ),
        (
            {"type": "purchases", "external_id": "a", "purchase_id": "k", "time": "t",
             "product_id": "p", "price": "x", "currency": "dollars"},
            "'dollars' is not an ISO 4217 code",
        ),
        (
            {"type": "users", "user_alias": {"name": "anon"}},
            "needs `name` and exactly one of `label` or `label_column`",
        ),
        ("users", "meta.braze.: expected a mapping"),
    ],
)  # fmt: skip
def test_each_wrong_shape_is_named_with_its_fix(block: Any, expected: str) -> None:
    config, problems = parse_model(_model(block))
    assert config is None
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("model braze_users (models/braze.yml): meta.braze.") for p in problems)


def test_an_ephemeral_model_cannot_be_synced() -> None:
    _, problems = parse_model(_model({"type": "users", "external_id": "a"}, "ephemeral"))
    assert any("ephemeral model has no relation" in p for p in problems)


def test_every_problem_of_a_block_is_reported_at_once() -> None:
    _, problems = parse_model(
        _model({"type": "events", "external_id": "a", "colour": 1, "backfill": "x"})
    )
    assert len(problems) == 5
    joined = "\n".join(problems)
    assert "unknown key for an events model" in joined
    for key in ("colour", "event_id", "time", "backfill", "name"):
        assert f"meta.braze.{key}:" in joined


def test_missing_columns_suggest_the_closest_real_one() -> None:
    config, _ = parse_model(
        _model({"type": "users", "external_id": "customer_id", "attributes": ["frist_name"]})
    )
    assert config is not None
    problems = check_columns(config, ["customer_id", "first_name", "email"])
    assert problems == [
        "model braze_users (models/braze.yml): meta.braze.attributes.frist_name: column "
        "`frist_name` not found in the model. Did you mean `first_name`?"
    ]
    assert check_columns(config, ["CUSTOMER_ID", "FRIST_NAME"]) == []
