"""How Braze changes a profile's attributes when an attributes object is applied to it."""

from __future__ import annotations

import copy
import functools
import zoneinfo
from typing import Any

from dbt_braze.braze_rules import (
    CONTROL_FLAGS,
    PRIMARY_IDENTIFIERS,
    SECONDARY_IDENTIFIERS,
    primary_identifiers,
)

# external_id and user_alias cannot be removed from a profile by writing null.
_PERMANENT = frozenset({"external_id", "user_alias", "braze_id"})


@functools.lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def apply_attributes(
    attributes: dict[str, Any], obj: dict[str, Any], array_max_items: int
) -> None:
    """Write one validated attributes object into a profile's attributes, in place."""
    merge = obj.get("_merge_objects") is True
    skip_secondary = not primary_identifiers(obj)
    for name, value in obj.items():
        if name in PRIMARY_IDENTIFIERS or name in CONTROL_FLAGS:
            continue
        if skip_secondary and name in SECONDARY_IDENTIFIERS:
            continue  # the lookup key: the store sets it on a profile it creates
        _apply_one(attributes, name, value, merge, array_max_items)


def _apply_one(
    attributes: dict[str, Any], name: str, value: Any, merge: bool, array_max_items: int
) -> None:
    if value is None:
        if name not in _PERMANENT:
            attributes.pop(name, None)
        return
    if name == "time_zone" and value not in _time_zones():
        return  # Braze leaves an invalid time zone unset rather than rejecting the object
    current = attributes.get(name)
    if isinstance(value, dict):
        keys = value.keys()
        if keys == {"inc"}:
            base = current if isinstance(current, (int, float)) else 0
            attributes[name] = base + value["inc"]
            return
        if keys <= {"add", "remove"}:
            attributes[name] = _edit_array(current, value, array_max_items)
            return
        if keys <= {"$add", "$remove", "$update"}:
            attributes[name] = _edit_object_array(current, value)
            return
        if merge and isinstance(current, dict):
            attributes[name] = deep_merge(current, value)
            return
    if isinstance(value, list):
        value = _unique(value)[-array_max_items:] if not _all_dicts(value) else value
    # Scalars are immutable; only containers need a copy of their own.
    attributes[name] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `changes` merged in, nested objects merged key by key."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and "$time" not in value:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _edit_array(current: Any, ops: dict[str, Any], array_max_items: int) -> list[Any]:
    items = list(current) if isinstance(current, list) else []
    for item in ops.get("add", []):
        if item in items:
            items.remove(item)  # re-adding moves the value to the end
        items.append(item)
    removed = ops.get("remove", [])
    items = [item for item in items if item not in removed]
    # When full, Braze drops the oldest values first.
    return items[-array_max_items:]


def _edit_object_array(current: Any, ops: dict[str, Any]) -> list[Any]:
    # Braze applies $add, then $remove, then $update within one request.
    items = [copy.deepcopy(i) for i in current] if isinstance(current, list) else []
    items += [copy.deepcopy(i) for i in ops.get("$add", [])]
    for rule in ops.get("$remove", []):
        items = [i for i in items if not _matches(i, rule)]
    for rule in ops.get("$update", []):
        items = [deep_merge(i, rule["$new_object"]) if _matches(i, rule) else i for i in items]
    return items


def _matches(item: Any, rule: dict[str, Any]) -> bool:
    return (
        isinstance(item, dict) and item.get(rule["$identifier_key"]) == rule["$identifier_value"]
    )


def _unique(values: list[Any]) -> list[Any]:
    # Values in a Braze array are unique; a later duplicate wins the position.
    seen: dict[Any, None] = {}
    for value in values:
        seen.pop(value, None)
        seen[value] = None
    return list(seen)


def _all_dicts(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, dict) for v in values)
