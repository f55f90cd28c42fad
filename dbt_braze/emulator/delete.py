"""`POST /users/delete`: up to 50 identifiers of one type, answered with how many were queued."""

from __future__ import annotations

from typing import Any

from dbt_braze.emulator.store import Store

_ID_KEYS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")
_PRIORITIES = frozenset({"identified", "unidentified", "most_recently_updated"})


def handle_delete(
    body: Any, store: Store, *, per_request: int, one_type: bool
) -> tuple[int, dict[str, Any]]:
    """Braze's status and body for one delete request; named profiles leave `store`."""
    if not isinstance(body, dict):
        return 400, {"message": "Request body must be a JSON object."}
    given = {k: body[k] for k in _ID_KEYS if body.get(k)}
    if not given:
        return 400, {"message": "No identifiers were provided."}
    if any(not isinstance(v, list) for v in given.values()):
        return 400, {"message": "Identifiers must be given as arrays."}
    if one_type and len(given) > 1:
        return 400, {"message": "Only one type of identifier may be provided per request."}
    if sum(len(v) for v in given.values()) > per_request:
        if given.keys() <= {"external_ids", "user_aliases"}:
            return 400, {
                "message": "The max number of external_ids and aliases per request was exceeded"
            }
        return 400, {"message": "The max number of ids per request was exceeded"}

    lookups: list[dict[str, Any]] = []
    for key, values in given.items():
        for value in values:
            lookup = _lookup(key, value)
            if lookup is None:
                return 400, {"message": f"Invalid entry in '{key}'."}
            lookups.append(lookup)

    # Known limitation: an email or phone matching several profiles deletes the best match;
    # Braze deletes nothing when its prioritization still leaves more than one.
    with store.lock:
        for lookup in lookups:
            profile = store.find(lookup)
            if profile is not None:
                store.delete(profile)
    return 201, {"deleted": len(lookups), "message": "success"}


def _lookup(key: str, value: Any) -> dict[str, Any] | None:
    if key in ("external_ids", "braze_ids"):
        ok = isinstance(value, str) and bool(value)
        return {key[:-1]: value} if ok else None
    if key == "user_aliases":
        ok = isinstance(value, dict) and {"alias_name", "alias_label"} <= value.keys()
        return {"user_alias": value} if ok else None
    field = "email" if key == "email_addresses" else "phone"
    if not isinstance(value, dict) or not isinstance(value.get(field), str):
        return None
    priorities = value.get("prioritization")
    if not isinstance(priorities, list) or not priorities or not set(priorities) <= _PRIORITIES:
        return None
    if {"identified", "unidentified"} <= set(priorities):
        return None
    return {field: value[field]}
