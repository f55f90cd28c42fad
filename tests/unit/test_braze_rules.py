"""The shared payload rules, as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbt_braze import braze_rules as rules
from dbt_braze.braze_rules import Limits

T = "2024-05-01T12:00:00Z"


@pytest.mark.parametrize(
    "value",
    ["2024-05-01", T, "2024-05-01T12:00", "2024-05-01T12:00:00.123+02:00", "2024-02-29 23:59:59"],
)
def test_iso8601_accepts(value: str) -> None:
    assert rules.is_iso8601(value)


@pytest.mark.parametrize(
    "value", ["2023-02-29", "2024-13-01", "2024-05-01T25:00:00Z", "01/05/2024", "", 20240501, None]
)
def test_iso8601_refuses(value: object) -> None:
    assert not rules.is_iso8601(value)


def test_braze_time_accepts_its_extra_formats() -> None:
    assert rules.is_braze_time("05/01/2024")
    assert rules.is_braze_time("2024-05-01T12:00:00:123Z")
    assert not rules.is_braze_time("next tuesday")


@given(st.datetimes(timezones=st.just(None)))
def test_every_python_isoformat_is_iso8601(moment: object) -> None:
    assert rules.is_iso8601(moment.isoformat())  # type: ignore[attr-defined]


def test_currency_codes() -> None:
    assert rules.is_currency_code("USD") and rules.is_currency_code("EUR")
    assert not rules.is_currency_code("usd") and not rules.is_currency_code("ABC")


def test_object_count_combined_and_legacy() -> None:
    body = {"attributes": [{}] * 40, "events": [{}] * 36}
    assert rules.check_object_count(body) == rules.MAX_INPUT_LENGTH_EXCEEDED
    assert rules.check_object_count(body, Limits(combined_object_limit=False)) is None
    assert rules.check_object_count({"attributes": [{}] * 76}, Limits(combined_object_limit=False))


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"external_id": "a"}, None),
        ({"email": "a@b.co"}, None),
        ({"phone": "+14155550100"}, None),
        ({}, rules.IDENTIFIER_REQUIRED),
        ({"external_id": None}, rules.IDENTIFIER_REQUIRED),
        ({"external_id": "a", "braze_id": "b"}, rules.ONE_PRIMARY_IDENTIFIER),
        ({"email": "nope"}, rules.BAD_EMAIL),
        ({"external_id": 5}, "'external_id' must be a non-empty string"),
    ],
)
def test_identifiers(obj: dict[str, object], expected: str | None) -> None:
    assert rules.check_identifiers(obj) == expected


def test_external_id_byte_limit_counts_bytes_not_characters() -> None:
    assert rules.check_identifiers({"external_id": "é" * 493}) is None  # 986 bytes
    assert rules.check_identifiers({"external_id": "é" * 494}) is not None  # 988 bytes


def test_attribute_and_property_names() -> None:
    assert rules.check_attribute_name("ltv") is None
    assert rules.check_attribute_name("$x") and rules.check_attribute_name("")
    assert rules.check_attribute_name("x" * 256)
    assert rules.check_property_name("event_name") and rules.check_property_name("time")
    assert rules.check_property_name("amount") is None


def test_attributes_object_reports_every_problem() -> None:
    obj = {"first_name": "x" * 256, "gender": "X"}
    problems = rules.check_attributes_object(obj)
    assert problems[0] == rules.IDENTIFIER_REQUIRED
    assert len(problems) == 3


def test_limits_are_honoured() -> None:
    obj = {"external_id": "a", "s": "x" * 20}
    assert rules.check_attributes_object(obj) == []
    assert rules.check_attributes_object(obj, Limits(string_max_chars=10))


def test_valid_objects_pass() -> None:
    assert (
        rules.check_attributes_object(
            {"external_id": "a", "tags": {"add": ["x"]}, "o": {"when": {"$time": T}}, "n": None}
        )
        == []
    )
    assert rules.check_event_object({"external_id": "a", "name": "e", "time": T}) == []
    purchase = {"external_id": "a", "product_id": "p", "currency": "JPY", "price": 0, "time": T}
    assert rules.check_purchase_object({**purchase, "quantity": 100}) == []


def test_data_points() -> None:
    obj = {"external_id": "a", "_merge_objects": True, "a": 1, "push_subscribe": "opted_in"}
    assert rules.attributes_data_points(obj) == 1
    assert rules.attributes_data_points({"email": "a@b.co", "x": 1}) == 1  # email is the lookup
    assert rules.attributes_data_points({"external_id": "a", "email": "a@b.co"}) == 1
    assert rules.purchase_data_points({"properties": {"a": 1, "b": 2}}) == 3
