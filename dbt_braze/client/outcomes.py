"""What goes into the client (items) and what comes back (one outcome per item)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

TRACK_KINDS = ("attributes", "events", "purchases")
DELETE_ID_TYPES = ("external_ids", "user_aliases", "braze_ids")


@dataclass
class Item:
    """One Braze object for /users/track; `body` goes on the wire as is."""

    kind: str
    body: dict[str, Any]
    token: Any = None


@dataclass
class DeleteItem:
    """One user to remove through /users/delete."""

    id_type: str
    value: Any
    token: Any = None


@dataclass(slots=True)
class Outcome:
    """Braze's verdict on one item; `token` is the caller's handle, untouched."""

    token: Any
    delivered: bool
    error: str | None = None
    uncertain: bool = False


@dataclass
class ClientStats:
    """Counters over the client's life; read a copy through `BrazeClient.stats`."""

    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0  # requests repeated after a transient failure
    objects: int = 0  # objects handed in
    delivered: int = 0  # objects Braze acknowledged
    rejected: int = 0  # objects Braze (or local validation) refused, and those given up on
    rejected_locally: int = 0  # never sent: failed a local rule or too large alone
    uncertain: int = 0  # delivered, but Braze's answer could not be tied to the object
    gave_up: int = 0  # objects not delivered after max_retries transient failures
    throttled: int = 0  # 429 answers
    server_errors: int = 0  # 5xx answers
    connection_errors: int = 0  # timeouts and dropped or refused connections
    splits: int = 0  # batches split in two to isolate a bad object
    ambiguous_resends: int = 0  # events/purchases resent after an answer was lost in flight
    bytes_sent: int = 0  # request body bytes, retries included


class StatsCounter:
    """Thread-safe increments on a ClientStats shared by all workers."""

    def __init__(self) -> None:
        self._stats = ClientStats()
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        """Add each count to the field of the same name."""
        with self._lock:
            for name, n in counts.items():
                setattr(self._stats, name, getattr(self._stats, name) + n)

    def snapshot(self) -> ClientStats:
        """A copy that later sends will not change."""
        with self._lock:
            return ClientStats(
                **{f.name: getattr(self._stats, f.name) for f in fields(self._stats)}
            )
