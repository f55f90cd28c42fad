"""Warehouse values of every type and edge into Braze values: a faithful JSON value or a clear
`InvalidValue`, never a crash and never a silently wrong value."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbt_braze import braze_rules
from dbt_braze.payload import MAX_DEPTH, InvalidValue, json_column, to_braze

UTC = dt.timezone.utc

offsets = st.integers(min_value=-86399, max_value=86399).map(
    lambda s: dt.timezone(dt.timedelta(seconds=s))
)
zones = st.one_of(st.none(), st.just(UTC), offsets, st.timezones())
datetimes = st.datetimes(timezones=zones)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(),
    st.dates(),
    datetimes,
    st.times(),
    st.uuids(),
    st.binary(max_size=8),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _assert_faithful(value: Any, sent: Any) -> None:
    """What Braze receives means what the warehouse held."""
    json.dumps(sent, allow_nan=False)  # plain JSON: never NaN or infinity
    if value is None or isinstance(value, (bool, str)):
        assert sent == value and type(sent) is type(value)
    elif isinstance(value, int):
        assert sent == value
    elif isinstance(value, (float, decimal.Decimal)):
        assert isinstance(sent, (int, float)) and not isinstance(sent, bool)
        assert math.isclose(float(sent), float(value), rel_tol=1e-15, abs_tol=0.0)
    elif isinstance(value, dt.datetime):
        assert braze_rules.is_iso8601(sent) and sent.endswith("Z"), sent
        assert dt.datetime.fromisoformat(sent[:-1]).replace(tzinfo=UTC) == _as_utc(value)
    elif isinstance(value, dt.date):
        assert braze_rules.is_iso8601(sent) and dt.date.fromisoformat(sent) == value
    elif isinstance(value, dt.time):
        assert sent == value.isoformat()
    elif isinstance(value, uuid.UUID):
        assert sent == str(value)
    else:
        raise AssertionError(f"{value!r} of an unexpected type was accepted as {sent!r}")


@settings(max_examples=400, deadline=None)
@given(scalars)
def test_every_scalar_is_sent_faithfully_or_refused(value: Any) -> None:
    try:
        sent = to_braze(value, "col")
    except InvalidValue as exc:
        assert "col" in str(exc) or "outside" in str(exc)
        refusable = (float, decimal.Decimal, bytes, dt.datetime)
        assert isinstance(value, refusable), f"{value!r} refused: {exc}"
        if isinstance(value, float):
            assert not math.isfinite(value)
        return
    _assert_faithful(value, sent)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_columns_arrive_as_the_same_json(value: Any) -> None:
    text = json.dumps(value)
    try:
        sent = to_braze(json_column(text, "doc"), "doc")
    except InvalidValue as exc:
        assert "finite" in str(exc)  # only NaN or infinity inside are refused
        return
    if isinstance(value, (dict, list)):
        assert json.loads(json.dumps(sent, allow_nan=False)) == json.loads(text)
    else:
        assert sent == json.loads(text) or sent == text


@pytest.mark.parametrize(
    "value",
    [
        decimal.Decimal("NaN"),
        decimal.Decimal("-Infinity"),
        decimal.Decimal("1E+400"),  # finite, but beyond a double: became infinity before
        decimal.Decimal("-1E+309"),
        float("nan"),
        float("inf"),
        b"\x00\x01",
    ],
)
def test_values_braze_cannot_hold_are_refused(value: Any) -> None:
    with pytest.raises(InvalidValue, match="amount"):
        to_braze(value, "amount")


def test_huge_and_tiny_numbers_keep_their_value() -> None:
    assert to_braze(decimal.Decimal("123456789012345678901234567890")) == pytest.approx(
        1.2345678901234568e29
    )
    assert to_braze(decimal.Decimal("9007199254740991")) == 2**53 - 1
    assert to_braze(decimal.Decimal("12.50")) == 12.5
    assert to_braze(decimal.Decimal("-0")) == 0
    assert to_braze(2**63 - 1) == 2**63 - 1


def test_times_of_every_zone_and_era_are_utc_iso8601() -> None:
    odd_zone = dt.timezone(dt.timedelta(seconds=3208))  # Amsterdam before 1937: +00:53:28
    assert to_braze(dt.datetime(1900, 1, 1, tzinfo=odd_zone)) == "1899-12-31T23:06:32Z"
    assert to_braze(dt.datetime(1, 1, 1)) == "0001-01-01T00:00:00Z"
    assert to_braze(dt.datetime(9999, 12, 31, 23, 59, 59, 999999)) == "9999-12-31T23:59:59.999999Z"
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert to_braze(dt.datetime(2025, 1, 1, 5, 30, tzinfo=ist)) == "2025-01-01T00:00:00Z"
    assert to_braze(dt.datetime(2025, 1, 1, tzinfo=ist), nested=True) == {
        "$time": "2024-12-31T18:30:00Z"
    }
    with pytest.raises(InvalidValue):
        to_braze(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))))


def test_json_nested_beyond_the_depth_limit_is_refused_not_a_crash() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(InvalidValue, match="nested deeper"):
        to_braze(deep, "doc")
    with pytest.raises(InvalidValue, match="doc"):
        json_column("[" * 100_000 + "]" * 100_000, "doc")
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH - 1):
        shallow = {"a": shallow}
    assert json.dumps(to_braze(shallow, "doc")).count("{") == MAX_DEPTH - 1


def test_json_size_and_string_length_limits() -> None:
    """Braze's limits are checked on the shaped value: 255 characters pass, 256 do not."""
    for text in ("x" * 255, "é" * 255, "😀" * 255, ""):
        obj = {"external_id": "1", "name": to_braze(text)}
        assert braze_rules.check_attributes_object(obj) == []
    for text in ("x" * 256, "😀" * 256):
        problems = braze_rules.check_attributes_object({"external_id": "1", "name": text})
        assert problems and "255" in problems[0]
    big = {f"k{i}": "v" * 200 for i in range(600)}  # about 125 KB of nested JSON
    problems = braze_rules.check_attributes_object({"external_id": "1", "doc": to_braze(big)})
    assert problems and "bytes" in problems[0]
