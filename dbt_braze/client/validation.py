"""Local checks with Braze's own rules, so an object Braze would refuse is never sent."""

from __future__ import annotations

from typing import Any

from dbt_braze import braze_rules
from dbt_braze.client.batching import Validator

_CHECKS = {
    "attributes": braze_rules.check_attributes_object,
    "events": braze_rules.check_event_object,
    "purchases": braze_rules.check_purchase_object,
}


def check_object(kind: str, body: dict[str, Any]) -> str | None:
    """Braze's messages for everything wrong with one object, joined; None when it is fine."""
    problems = _CHECKS[kind](body)
    return "; ".join(problems) if problems else None


def local_validator() -> Validator:
    """The validator the client uses unless told to skip local checks."""
    return check_object
