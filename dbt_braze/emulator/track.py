"""`POST /users/track` (and its bulk twin): validate like Braze, then apply what is valid."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dbt_braze.braze_rules import (
    MAX_INPUT_LENGTH_EXCEEDED,
    NO_VALID_DATA,
    TRACK_ARRAYS,
    Limits,
    attributes_data_points,
    check_attributes_object,
    check_event_object,
    check_object_count,
    check_purchase_object,
    count_objects,
    event_data_points,
    purchase_data_points,
)
from dbt_braze.emulator.store import Store

_CHECKS = {
    "attributes": check_attributes_object,
    "events": check_event_object,
    "purchases": check_purchase_object,
}
_POINTS = {
    "attributes": attributes_data_points,
    "events": event_data_points,
    "purchases": purchase_data_points,
}


def handle_track(
    body: Any, limits: Limits, store: Store, *, bulk: bool = False
) -> tuple[int, dict[str, Any]]:
    """Braze's status and body for one track request; valid objects reach `store`."""
    if not isinstance(body, dict):
        return 400, {"message": "Request body must be a JSON object."}
    for array in TRACK_ARRAYS:
        if array in body and not isinstance(body[array], list):
            return 400, {"message": f"'{array}' must be an array."}
    if bulk:
        too_many = count_objects(body) > limits.bulk_objects_per_request
        problem = MAX_INPUT_LENGTH_EXCEEDED if too_many else _too_many_per_user(body, limits)
    else:
        problem = check_object_count(body, limits)
    if problem:
        return 400, {"message": problem}

    # Known limitation: an invalid nested value rejects its object; Braze instead drops
    # every nested-attribute update of the request and applies the rest.
    errors: list[dict[str, Any]] = []
    valid: dict[str, list[dict[str, Any]]] = {}
    for array in TRACK_ARRAYS:
        for index, obj in enumerate(body.get(array) or []):
            problems = _CHECKS[array](obj, limits)
            if problems:
                errors += [{"type": p, "input_array": array, "index": index} for p in problems]
            else:
                valid.setdefault(array, []).append(obj)
    if not valid:
        # A request with nothing valid writes nothing and is a fatal 400.
        response: dict[str, Any] = {"message": NO_VALID_DATA}
        with store.lock:
            store.counters["rejections"] += len({(e["input_array"], e["index"]) for e in errors})
        if errors:
            response["errors"] = errors
        return 400, response

    with store.lock:
        # Braze processes attributes first, then events, then purchases.
        for obj in valid.get("attributes", []):
            if store.apply_attributes(obj):
                store.counters["data_points"] += _POINTS["attributes"](obj)
        for array in ("events", "purchases"):
            for obj in valid.get(array, []):
                if store.add_event(obj, array):
                    store.counters["data_points"] += _POINTS[array](obj)
        store.counters["objects"] += count_objects(body)
        store.counters["rejections"] += len({(e["input_array"], e["index"]) for e in errors})

    response = {"message": "success"}
    for array in TRACK_ARRAYS:
        if array in body:
            response[f"{array}_processed"] = len(valid.get(array, []))
    if errors:
        response["errors"] = errors
    return 201, response


def _too_many_per_user(body: dict[str, Any], limits: Limits) -> str | None:
    per_user: Counter[str] = Counter()
    for array in TRACK_ARRAYS:
        for obj in body.get(array) or []:
            if isinstance(obj, dict):
                key = next(
                    (
                        repr(obj[k])
                        for k in ("external_id", "user_alias", "braze_id", "email", "phone")
                        if k in obj
                    ),
                    None,
                )
                if key is not None:
                    per_user[key] += 1
    if per_user and max(per_user.values()) > limits.bulk_objects_per_user:
        return f"More than {limits.bulk_objects_per_user} objects for one user in one request."
    return None
