"""Packing objects into request bodies under Braze's object-count and body-size limits.

Each object is encoded to JSON once, when it is packed; a body is the encoded objects joined,
so splitting a batch to isolate a bad object never encodes anything again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from dbt_braze.client.outcomes import DELETE_ID_TYPES, TRACK_KINDS, DeleteItem, Item, Outcome

# The reference encoder: what it writes or refuses is what the client sends or rejects.
# One for the whole process: json.dumps with options builds a new one on every call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode

# Types orjson writes exactly as the reference encoder does (finite floats only, see _plain).
# orjson also writes datetimes, UUIDs, enums and dataclasses, which the reference refuses, and
# NaN as null: objects holding anything but these types take the reference encoder's path.
_SCALARS = frozenset({str, int, bool, type(None)})

Validator = Callable[[str, dict[str, Any]], "str | None"]


@dataclass(slots=True)
class Entry:
    """One object as packed: the array it goes in, its JSON bytes, and the caller's token."""

    array: str
    data: bytes
    token: Any
    body: Any  # the caller's object, not copied; read only to judge whether a resend is safe


@dataclass
class Batch:
    """The objects of one request, in the order they were packed."""

    path: str
    entries: list[Entry] = field(default_factory=list)

    def encode(self) -> bytes:
        """The request body: one JSON array per kind present, objects in packing order."""
        entries = self.entries
        arrays = {entry.array for entry in entries}
        if len(arrays) == 1:  # the common case: one kind a request, no grouping to do
            (name,) = arrays
            return b'{"' + name.encode() + b'":[' + b",".join([e.data for e in entries]) + b"]}"
        groups: dict[str, list[bytes]] = {}
        for entry in entries:
            groups.setdefault(entry.array, []).append(entry.data)
        parts = [
            b'"' + name.encode() + b'":[' + b",".join(data) + b"]" for name, data in groups.items()
        ]
        return b"{" + b",".join(parts) + b"}"

    def positions(self) -> dict[tuple[str, int], Entry]:
        """Each entry under the (input_array, index) that Braze's `errors` would name it by."""
        seen: dict[str, int] = {}
        located: dict[tuple[str, int], Entry] = {}
        for entry in self.entries:
            index = seen.get(entry.array, 0)
            seen[entry.array] = index + 1
            located[(entry.array, index)] = entry
        return located

    def halves(self) -> tuple[Batch, Batch]:
        """Two batches that together hold every entry once; both non-empty when len > 1."""
        middle = len(self.entries) // 2
        return Batch(self.path, self.entries[:middle]), Batch(self.path, self.entries[middle:])

    def subset(self, entries: list[Entry]) -> Batch:
        """A batch of the same request type holding only `entries`."""
        return Batch(self.path, entries)


class Packer:
    """Turns a stream of entries into batches, never buffering more than one batch."""

    def __init__(
        self,
        path: str,
        *,
        per_request: int,
        combined: bool,
        max_body_bytes: int,
        one_array_per_request: bool = False,
    ) -> None:
        self.path = path
        self.per_request = per_request
        self.combined = combined
        self.max_body_bytes = max_body_bytes
        self.one_array_per_request = one_array_per_request

    def pack(self, entries: Iterable[Entry | Outcome]) -> Iterator[Batch | Outcome]:
        """Yield full batches as they fill, and pass local rejections through untouched."""
        path, limit, per_request = self.path, self.max_body_bytes, self.per_request
        combined, one_array = self.combined, self.one_array_per_request
        batch: list[Entry] = []
        counts: dict[str, int] = {}  # objects of each array in the batch
        size = 2  # "{}"
        for entry in entries:
            if isinstance(entry, Outcome):
                yield entry
                continue
            array, data = entry.array, entry.data
            alone = len(data) + len(array) + 7  # a body of it alone: {"array":[data]}
            if alone > limit:
                yield Outcome(
                    entry.token,
                    False,
                    f"object is {alone:,} bytes as JSON, over the request body limit of "
                    f"{limit:,} bytes; it was not sent",
                )
                continue
            count = counts.get(array, 0)
            added = len(data) + 1 if count else alone - 2 + (1 if counts else 0)
            if batch and (
                size + added > limit
                or (one_array and not count)
                or (len(batch) if combined else count) >= per_request
            ):
                yield Batch(path, batch)
                batch, counts, size = [], {}, 2
                count, added = 0, alone - 2
            batch.append(entry)
            counts[array] = count + 1
            size += added
        if batch:
            yield Batch(path, batch)


def track_entries(items: Iterable[Item], validate: Validator | None) -> Iterator[Entry | Outcome]:
    """Encode each Item, or reject it locally with the reason (it is then never sent)."""
    for item in items:
        if item.kind not in TRACK_KINDS:
            yield Outcome(
                item.token,
                False,
                f"unknown object kind {item.kind!r}; expected one of {', '.join(TRACK_KINDS)}",
            )
            continue
        problem = validate(item.kind, item.body) if validate else None
        if problem is None:
            data, problem = _encoded(item.body)
        if problem is not None:
            yield Outcome(item.token, False, problem)
            continue
        yield Entry(item.kind, data, item.token, item.body)


def delete_entries(items: Iterable[DeleteItem]) -> Iterator[Entry | Outcome]:
    """Encode each DeleteItem, or reject it locally when its identifier type is unknown."""
    for item in items:
        if item.id_type not in DELETE_ID_TYPES:
            yield Outcome(
                item.token,
                False,
                f"unknown identifier type {item.id_type!r}; "
                f"expected one of {', '.join(DELETE_ID_TYPES)}",
            )
            continue
        data, problem = _encoded(item.value)
        if problem is not None:
            yield Outcome(item.token, False, problem)
            continue
        yield Entry(item.id_type, data, item.token, item.value)


def _plain(value: Any) -> bool:
    """True when `value` holds only str-keyed dicts, lists, tuples, text, ints, bools, None
    and finite floats: values orjson writes as the reference encoder would."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (type(item) in _SCALARS or _plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110 (a loop: all() over a generator is slower here)
            if not (type(item) in _SCALARS or _plain(item)):
                return False
        return True
    if kind is float:
        return value - value == 0.0  # false for NaN and both infinities
    return kind in _SCALARS


def _encoded(value: Any) -> tuple[bytes, str | None]:
    """Compact UTF-8 JSON of `value`, or why it cannot be sent (the reference encoder's word)."""
    try:
        if _plain(value):
            return orjson.dumps(value), None
    except (TypeError, RecursionError):
        pass  # beyond orjson (an int over 64 bits, a lone surrogate, deep nesting)
    try:
        return _encode(value).encode(), None
    except ValueError as exc:
        if "Out of range float" in str(exc):
            return b"", "object holds NaN or Infinity, which JSON (and Braze) cannot carry"
        return b"", f"object cannot be written as JSON: {exc}"
    except TypeError as exc:
        return b"", f"object cannot be written as JSON: {exc}"
