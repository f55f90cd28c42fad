"""Local checks with Braze's own rules, so an object Braze would refuse is never sent.

Cheap checks only: the client must stay fast enough to fill Braze's rate limit on one core.
Attributes get the identifier check (the common failure: a null or two identifiers); their
values are left to Braze, whose per-object `errors` the client reads anyway. Events and
purchases get every rule: they cannot be resent safely, so a bad one is better caught here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbt_braze import braze_rules
from dbt_braze.client.batching import Validator


def _attributes(body: dict[str, Any]) -> list[str]:
    if not isinstance(body, dict):
        return ["attributes objects must be JSON objects"]
    problem = braze_rules.check_identifiers(body)
    return [problem] if problem else []


_CHECKS: dict[str, Callable[[Any], list[str]]] = {
    "attributes": _attributes,
    "events": braze_rules.check_event_object,
    "purchases": braze_rules.check_purchase_object,
}


def check_object(kind: str, body: dict[str, Any]) -> str | None:
    """Braze's messages for what the local checks find wrong, joined; None when none."""
    problems = _CHECKS[kind](body)
    return "; ".join(problems) if problems else None


def local_validator() -> Validator:
    """The validator the client uses unless told to skip local checks."""
    return check_object
