"""Warehouse values into Braze's wire values, and rows into Braze objects.

Dates and timestamps become ISO 8601 (a naive timestamp is taken as UTC), numerics JSON
numbers, JSON and struct columns nested objects. A value Braze cannot take raises
`InvalidValue`, so the row is reported and never sent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

from dbt_braze.config import Identifier


class InvalidValue(ValueError):
    """A value that has no faithful Braze form (NaN, infinity, bytes, ...)."""


def _number(value: float | decimal.Decimal, name: str) -> int | float:
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise InvalidValue(f"{name} is {value}; Braze takes finite numbers only")
        as_int = int(value)
        if value == as_int and abs(as_int) < 2**53:
            return as_int
        # A finite Decimal beyond a double's range would silently become infinity.
        value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise InvalidValue(f"{name} is {value}; Braze takes finite numbers only")
    return value


def _timestamp(value: dt.datetime) -> str:
    # Always UTC: zones with second offsets (+00:53:28, historic zones) are not ISO 8601.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        value = value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidValue(f"{value} is outside the years Braze can take") from None
    return value.replace(tzinfo=None).isoformat() + "Z"


# Known limitation: JSON nested deeper than MAX_DEPTH levels is refused as invalid, though
# Braze documents only a size limit.
MAX_DEPTH = 50


def to_braze(value: Any, name: str = "value", *, nested: bool = False, depth: int = 0) -> Any:
    """The JSON value Braze should receive for a warehouse value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        return _number(value, name)
    if isinstance(value, dt.datetime):
        text = _timestamp(value)
        return {"$time": text} if nested else text
    if isinstance(value, dt.date):
        return {"$time": value.isoformat()} if nested else value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise InvalidValue(f"{name} is JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {
            str(k): to_braze(v, f"{name}.{k}", nested=True, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_braze(v, f"{name}[]", nested=nested, depth=depth + 1) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidValue(f"{name} is binary; Braze takes text, numbers, dates or JSON")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise InvalidValue(f"{name} has type {type(value).__name__}, which Braze cannot take")


def json_column(value: Any, name: str) -> Any:
    """A JSON column may arrive as text (DuckDB): parse it into its object."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
        except RecursionError:
            raise InvalidValue(f"{name} is JSON nested too deep to read") from None
    return value


def identifier_fields(identifier: Identifier, key: str) -> dict[str, Any]:
    """The identifier part of a Braze object, from the state key text."""
    if identifier.kind == "user_alias":
        label, _, name = key.partition("\x1f")
        return {"user_alias": {"alias_name": name, "alias_label": label}}
    return {identifier.kind: key}


def delete_identifier(identifier: Identifier, key: str) -> tuple[str, Any]:
    """(`/users/delete` field, value) for a state key."""
    fields = identifier_fields(identifier, key)
    kind, value = next(iter(fields.items()))
    return {"external_id": "external_ids", "user_alias": "user_aliases"}.get(
        kind, "braze_ids"
    ), value
