"""Warehouse values into Braze wire values, and rows into event and purchase objects (pure)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbt_braze.activity import build_object
from dbt_braze.artifacts import ModelNode
from dbt_braze.config import Identifier, SyncConfig, parse_model
from dbt_braze.payload import (
    InvalidValue,
    delete_identifier,
    identifier_fields,
    json_column,
    to_braze,
)

BERLIN = dt.timezone(dt.timedelta(hours=2))


def _config(kind: str, **braze: Any) -> SyncConfig:
    """A validated config for a model whose `meta.braze` is `braze` plus the type."""
    model = ModelNode(
        unique_id=f"model.shop.m_{kind}",
        name=f"m_{kind}",
        package_name="shop",
        database=None,
        schema="analytics",
        alias=f"m_{kind}",
        relation_name=f"analytics.m_{kind}",
        materialized="table",
        original_file_path=f"models/m_{kind}.sql",
        patch_path=None,
        tags=frozenset(),
        meta={"braze": {"type": kind, **braze}},
        columns={},
    )
    config, problems = parse_model(model)
    assert config is not None, problems
    return config


def _event_config(**overrides: Any) -> SyncConfig:
    braze = {
        "external_id": "customer_id",
        "event_id": "order_id",
        "name": "order_placed",
        "time": "ordered_at",
        "properties": ["status", "amount"],
    }
    return _config("events", **{**braze, **overrides})


def _purchase_config(**overrides: Any) -> SyncConfig:
    braze = {
        "external_id": "customer_id",
        "purchase_id": "order_item_id",
        "product_id": "product_name",
        "price": "price",
        "currency": "usd",
        "quantity": "quantity",
        "time": "ordered_at",
    }
    return _config("purchases", **{**braze, **overrides})


# -- to_braze ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        ("x", "x"),
        (7, 7),
        (2.5, 2.5),
        (decimal.Decimal("34.00"), 34),
        (decimal.Decimal("59.95"), 59.95),
        (decimal.Decimal("-0.5"), -0.5),
        (dt.datetime(2024, 4, 30, 10, 45, 4), "2024-04-30T10:45:04Z"),
        (dt.datetime(2024, 4, 30, 10, 45, 4, tzinfo=dt.timezone.utc), "2024-04-30T10:45:04Z"),
        # An offset is converted to UTC: the same instant, always in ISO 8601's Z form.
        (dt.datetime(2024, 4, 30, 10, 45, 4, tzinfo=BERLIN), "2024-04-30T08:45:04Z"),
        (dt.datetime(2024, 4, 30, 10, 45, 4, 123000), "2024-04-30T10:45:04.123000Z"),
        (dt.date(2024, 4, 30), "2024-04-30"),
        (dt.time(8, 30), "08:30:00"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (dt.timedelta(minutes=2), 120.0),
        ([1, "a", None], [1, "a", None]),
    ],
)
def test_to_braze_top_level_values(value: Any, expected: Any) -> None:
    got = to_braze(value)
    assert got == expected and type(got) is type(expected)


def test_to_braze_nests_dates_as_braze_time_objects() -> None:
    value = {
        "placed": dt.datetime(2024, 1, 2, 3, 4, 5),
        "due": dt.date(2024, 2, 1),
        "lines": [{"at": dt.datetime(2024, 1, 2, tzinfo=BERLIN), "qty": decimal.Decimal("2")}],
        7: "key made text",
    }
    assert to_braze(value, "order") == {
        "placed": {"$time": "2024-01-02T03:04:05Z"},
        "due": {"$time": "2024-02-01"},
        "lines": [{"at": {"$time": "2024-01-01T22:00:00Z"}, "qty": 2}],
        "7": "key made text",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "amount is nan"),
        (float("inf"), "amount is inf"),
        (decimal.Decimal("NaN"), "amount is NaN"),
        (decimal.Decimal("-Infinity"), "amount is -Infinity"),
        (b"\x00", "amount is binary"),
        ({"x": [float("nan")]}, "amount.x[] is nan"),
        (object(), "amount has type object"),
    ],
)
def test_to_braze_refuses_values_without_a_faithful_form(value: Any, message: str) -> None:
    with pytest.raises(InvalidValue, match=message.replace("[", r"\[").replace("]", r"\]")):
        to_braze(value, "amount")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**12))
def test_finite_decimals_keep_their_value(value: decimal.Decimal) -> None:
    got = to_braze(value)
    assert isinstance(got, (int, float))
    assert got == pytest.approx(float(value), rel=1e-15)
    # Whole numbers a double holds exactly go out as JSON integers (34, not 34.0).
    exact_int = value == value.to_integral_value() and abs(value) < 2**53
    assert isinstance(got, int) == exact_int
    assert json.loads(json.dumps(got)) == got


def test_json_column_parses_text_objects_and_arrays_only() -> None:
    assert json_column('{"a": {"b": [1, 2]}}', "p") == {"a": {"b": [1, 2]}}
    assert json_column("[1, 2]", "p") == [1, 2]
    assert json_column("{not json", "p") == "{not json"
    assert json_column("42", "p") == "42"
    assert json_column({"a": 1}, "p") == {"a": 1}


def test_identifier_fields_from_state_keys() -> None:
    assert identifier_fields(Identifier("external_id", "id"), "42") == {"external_id": "42"}
    alias = Identifier("user_alias", "anon_id", alias_label="web")
    assert identifier_fields(alias, "web\x1fa-b-c") == {
        "user_alias": {"alias_name": "a-b-c", "alias_label": "web"}
    }
    assert delete_identifier(Identifier("external_id", "id"), "42") == ("external_ids", "42")
    assert delete_identifier(Identifier("braze_id", "b"), "xyz") == ("braze_ids", "xyz")
    assert delete_identifier(alias, "web\x1fa") == (
        "user_aliases",
        {"alias_name": "a", "alias_label": "web"},
    )


# -- build_object: events --------------------------------------------------------------------


def _order(**overrides: Any) -> dict[str, Any]:
    row = {
        "customer_id": 189,
        "order_id": 1,
        "ordered_at": dt.datetime(2024, 4, 30, 10, 45, 4),
        "status": "completed",
        "amount": decimal.Decimal("93.95"),
    }
    return {**row, **overrides}


def test_event_object_from_a_row() -> None:
    assert build_object(_event_config(), _order()) == {
        "external_id": "189",
        "time": "2024-04-30T10:45:04Z",
        "name": "order_placed",
        "properties": {"status": "completed", "amount": 93.95},
    }


def test_event_name_from_a_column_and_properties_renamed_and_nested() -> None:
    config = _event_config(
        name=None,
        name_column="kind",
        properties={"status": "order_status", "details": "details"},
        app_id="app-1",
        update_existing_only=True,
    )
    details = '{"lines": [{"sku": "A", "at": "2024-01-01"}], "gift": false}'
    row = _order(kind="order_shipped", details=details, status=None)
    assert build_object(config, row) == {
        "external_id": "189",
        "time": "2024-04-30T10:45:04Z",
        "app_id": "app-1",
        "name": "order_shipped",
        # A null property is left out, not sent as null.
        "properties": {"details": {"lines": [{"sku": "A", "at": "2024-01-01"}], "gift": False}},
        "_update_existing_only": True,
    }


def test_event_time_is_utc_with_its_zone_and_a_date_is_midnight_utc() -> None:
    config = _event_config(properties=[])
    zoned = _order(ordered_at=dt.datetime(2024, 4, 30, 10, 45, 4, tzinfo=BERLIN))
    assert build_object(config, zoned)["time"] == "2024-04-30T08:45:04Z"
    dated = _order(ordered_at=dt.date(2024, 4, 30))
    assert build_object(config, dated)["time"] == "2024-04-30T00:00:00Z"
    assert "properties" not in build_object(config, _order())


def test_event_with_user_alias_label_from_a_column() -> None:
    config = _event_config(
        external_id=None, user_alias={"name": "anon_id", "label_column": "source"}
    )
    body = build_object(config, _order(anon_id="a-1", source="web"))
    assert body["user_alias"] == {"alias_name": "a-1", "alias_label": "web"}
    assert "external_id" not in body


@pytest.mark.parametrize(
    ("overrides", "row", "message"),
    [
        ({}, {"customer_id": None}, "external_id is null"),
        ({}, {"ordered_at": None}, "time column ordered_at is null"),
        ({"name": None, "name_column": "kind"}, {"kind": None}, "event name column kind"),
        ({}, {"amount": float("nan")}, "amount is nan"),
    ],
)
def test_event_rows_that_cannot_be_sent(
    overrides: dict[str, Any], row: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        build_object(_event_config(**overrides), _order(**row))


# -- build_object: purchases -----------------------------------------------------------------


def _line(**overrides: Any) -> dict[str, Any]:
    row = {
        "customer_id": 3,
        "order_item_id": 11,
        "product_name": "Daypack 20L",
        "price": decimal.Decimal("59.95"),
        "quantity": 2,
        "currency": "eur",
        "ordered_at": dt.datetime(2024, 9, 14, 20, 15, 53),
    }
    return {**row, **overrides}


def test_purchase_object_from_a_row() -> None:
    assert build_object(_purchase_config(), _line()) == {
        "external_id": "3",
        "time": "2024-09-14T20:15:53Z",
        "product_id": "Daypack 20L",
        "price": 59.95,
        "currency": "USD",
        "quantity": 2,
    }


def test_purchase_currency_from_a_column_upper_cased_and_null_quantity_left_out() -> None:
    config = _purchase_config(currency=None, currency_column="currency")
    body = build_object(config, _line(quantity=None, price=decimal.Decimal("34.00")))
    assert body["currency"] == "EUR"
    assert body["price"] == 34 and isinstance(body["price"], int)
    assert "quantity" not in body


@pytest.mark.parametrize(
    ("overrides", "row", "message"),
    [
        ({}, {"price": None}, "price column price is null"),
        ({}, {"product_name": None}, "product_id column product_name is null"),
        (
            {"currency": None, "currency_column": "currency"},
            {"currency": None},
            "currency column currency is null",
        ),
        ({}, {"price": decimal.Decimal("Infinity")}, "price is Infinity"),
    ],
)
def test_purchase_rows_that_cannot_be_sent(
    overrides: dict[str, Any], row: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        build_object(_purchase_config(**overrides), _line(**row))
