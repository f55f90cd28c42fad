"""Packing objects into request bodies under Braze's object-count and body-size limits.

Each object is encoded to JSON once, when it is packed; a body is the encoded objects joined,
so splitting a batch to isolate a bad object never encodes anything again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dbt_braze.client.outcomes import DELETE_ID_TYPES, TRACK_KINDS, DeleteItem, Item, Outcome

# One encoder for the whole process: json.dumps with options builds a new one on every call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode

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
        groups: dict[str, list[bytes]] = {}
        for entry in self.entries:
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


def body_size_alone(array: str, data: bytes) -> int:
    """Bytes of a body holding only this one object: `{"array":[data]}`."""
    return len(data) + len(array) + 7


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
        batch = Batch(self.path)
        counts: dict[str, int] = {}
        size = 2  # "{}"
        limit = self.max_body_bytes
        for entry in entries:
            if isinstance(entry, Outcome):
                yield entry
                continue
            alone = body_size_alone(entry.array, entry.data)
            if alone > limit:
                yield Outcome(
                    entry.token,
                    False,
                    f"object is {alone:,} bytes as JSON, over the request body limit of "
                    f"{limit:,} bytes; it was not sent",
                )
                continue
            count = counts.get(entry.array, 0)
            added = len(entry.data) + 1 if count else alone - 2 + (1 if counts else 0)
            if batch.entries and self._full(counts, entry.array, size + added):
                yield batch
                batch, counts, size = Batch(self.path), {}, 2
                count, added = 0, alone - 2
            batch.entries.append(entry)
            counts[entry.array] = count + 1
            size += added
        if batch.entries:
            yield batch

    def _full(self, counts: dict[str, int], array: str, size_after: int) -> bool:
        if size_after > self.max_body_bytes:
            return True
        if self.one_array_per_request and array not in counts:
            return True
        if self.combined:
            return sum(counts.values()) >= self.per_request
        return counts.get(array, 0) >= self.per_request


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


def _encoded(value: Any) -> tuple[bytes, str | None]:
    try:
        return _encode(value).encode(), None
    except ValueError as exc:
        if "Out of range float" in str(exc):
            return b"", "object holds NaN or Infinity, which JSON (and Braze) cannot carry"
        return b"", f"object cannot be written as JSON: {exc}"
    except TypeError as exc:
        return b"", f"object cannot be written as JSON: {exc}"
