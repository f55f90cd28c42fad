"""Reading Braze's answer to one batch into one outcome per object.

Braze names a bad object by (input_array, index). Some answers carry bare strings instead,
tied to no object. Then attribute objects, which are safe to write twice, are sent again in
smaller batches until the bad one stands alone; events and purchases, which Braze would count
twice, are never resent: they are reported delivered, flagged uncertain, with the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbt_braze.client.batching import Batch, Entry
from dbt_braze.client.outcomes import Outcome
from dbt_braze.client.transport import Reply

_COUNTED_TWICE = ("events", "purchases")
# Attribute operations that add to what is there rather than set it: a resend applies twice.
_CUMULATIVE_OPS = ("inc", "$add")


@dataclass
class Reading:
    """Outcomes settled by one answer, and the batches still to be sent."""

    outcomes: list[Outcome] = field(default_factory=list)
    resend: list[Batch] = field(default_factory=list)


def resend_safe(entry: Entry) -> bool:
    """True when writing this object twice leaves Braze as writing it once would."""
    if entry.array in _COUNTED_TWICE:
        return False
    if entry.array != "attributes" or not isinstance(entry.body, dict):
        return True
    for value in entry.body.values():
        if isinstance(value, dict) and any(op in value for op in _CUMULATIVE_OPS):
            return False
    return True


def read_accepted(batch: Batch, reply: Reply) -> Reading:
    """A 2xx: objects listed in `errors` are rejected, the others delivered."""
    listed, unattributed = _errors(batch, reply.payload)
    if not listed and not unattributed:  # the common answer: every object taken
        return Reading([Outcome(e.token, True) for e in batch.entries])
    reading = Reading()
    for entry in batch.entries:
        reason = listed.get(id(entry))
        if reason is not None:
            reading.outcomes.append(Outcome(entry.token, False, reason))
    if not unattributed:
        reading.outcomes += [Outcome(e.token, True) for e in batch.entries if id(e) not in listed]
        return reading

    message = "; ".join(unattributed)
    unlisted = [e for e in batch.entries if id(e) not in listed]
    if len(batch.entries) == 1 and unlisted and resend_safe(unlisted[0]):
        reading.outcomes.append(Outcome(unlisted[0].token, False, message))
        return reading
    safe = [e for e in unlisted if resend_safe(e)]
    reading.outcomes += [
        Outcome(e.token, True, message, uncertain=True) for e in unlisted if not resend_safe(e)
    ]
    if len(safe) == len(batch.entries):
        reading.resend += batch.halves()
    elif safe:
        reading.resend.append(batch.subset(safe))
    return reading


def read_fatal(batch: Batch, reply: Reply) -> Reading:
    """A 400 or 413: Braze wrote nothing; reject what it named, split to find the rest."""
    listed, _ = _errors(batch, reply.payload)
    reading = Reading()
    rest = [e for e in batch.entries if id(e) not in listed]
    for entry in batch.entries:
        reason = listed.get(id(entry))
        if reason is not None:
            reading.outcomes.append(Outcome(entry.token, False, reason))
    if not rest:
        return reading
    if listed:
        reading.resend.append(batch.subset(rest))
    elif len(batch.entries) == 1:
        reading.outcomes.append(Outcome(rest[0].token, False, describe(reply)))
    else:
        reading.resend += batch.halves()
    return reading


def reject_all(batch: Batch, reason: str) -> list[Outcome]:
    """Every object of the batch refused for the same reason."""
    return [Outcome(e.token, False, reason) for e in batch.entries]


def describe(reply: Reply) -> str:
    """`HTTP 400: <message> (<error types>)` for a rejection record."""
    text = f"HTTP {reply.status}: {reply.message() or 'no message'}"
    errors = reply.payload.get("errors") if reply.payload else None
    if isinstance(errors, list) and errors:
        kinds = sorted({_error_text(e) for e in errors[:20]})
        text += f" ({'; '.join(kinds)})"
    return text


def _errors(batch: Batch, payload: dict[str, Any] | None) -> tuple[dict[int, str], list[str]]:
    """Errors tied to an entry (keyed by the entry's id) and those tied to none."""
    errors = payload.get("errors") if payload else None
    if not errors:
        return {}, []
    if not isinstance(errors, list):
        errors = [errors]
    positions = batch.positions()
    listed: dict[int, str] = {}
    unattributed: list[str] = []
    for error in errors:
        entry = None
        if isinstance(error, dict):
            index = error.get("index")
            if isinstance(index, int) and not isinstance(index, bool):
                entry = positions.get((str(error.get("input_array")), index))
        if entry is None:
            unattributed.append(_error_text(error))
        elif id(entry) in listed:
            listed[id(entry)] += "; " + _error_text(error)
        else:
            listed[id(entry)] = _error_text(error)
    return listed, unattributed


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        for key in ("type", "message", "error"):
            if isinstance(error.get(key), str):
                return str(error[key])
    return str(error)
