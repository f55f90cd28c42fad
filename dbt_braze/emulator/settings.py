"""What an emulator is started with, and the faults it can be told to inject at run time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields

from dbt_braze.braze_rules import Limits

ALL_PERMISSIONS = frozenset(
    {"users.track", "users.track.bulk", "users.delete", "users.alias.new", "users.identify"}
)


@dataclass
class Faults:
    """Injected trouble. Rates draw from the seeded RNG; `*_next` counters are deterministic."""

    fail_rate: float = 0.0  # share of requests answered with one of `fail_statuses`
    fail_statuses: tuple[int, ...] = (500, 502, 503)
    throttle_rate: float = 0.0  # share of requests answered 429 whatever the limiter says
    latency_ms: int = 0  # added before every Braze request is handled
    drop_before_rate: float = 0.0  # close the connection without applying the request
    drop_after_rate: float = 0.0  # apply the request, then close without answering
    fail_next: int = 0  # the next N requests fail, cycling through `fail_statuses`
    throttle_next: int = 0  # the next N requests get 429 (a burst)
    drop_before_next: int = 0
    drop_after_next: int = 0

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names accepted by `Emulator.set_faults` and `POST /_emulator/faults`."""
        return tuple(f.name for f in fields(cls))


@dataclass
class EmulatorSettings:
    """Everything configurable; the defaults follow Braze's current documented behaviour."""

    api_key: str = field(default_factory=lambda: "local-" + secrets.token_hex(12))
    host: str = "127.0.0.1"
    port: int = 0  # 0 = any free port
    permissions: frozenset[str] = ALL_PERMISSIONS
    # Rate limit of /users/track: requests per window; 0 turns it off.
    rate_limit: int = 3000
    rate_window_s: float = 3.0
    rate_limit_mode: str = "new"  # "new": reset in seconds, 429 carries retry-after; "legacy"
    delete_rate_limit: int = 20000
    delete_rate_window_s: float = 60.0
    objects_per_request: int = 75
    combined_object_limit: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    bulk_objects_per_request: int = 1000
    bulk_max_body_bytes: int = 2 * 1024 * 1024
    delete_per_request: int = 50
    delete_one_identifier_type: bool = True  # Braze's text says one type; its example mixes
    string_max_chars: int = 255
    external_id_max_bytes: int = 987
    quantity_max: int = 100
    array_max_items: int = 500
    nested_max_bytes: int = 100 * 1024
    fail_rate: float = 0.0
    fail_statuses: tuple[int, ...] = (500, 502, 503)
    throttle_rate: float = 0.0
    latency_ms: int = 0
    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.rate_limit_mode not in ("new", "legacy"):
            raise ValueError("rate_limit_mode must be 'new' or 'legacy'")

    def limits(self) -> Limits:
        """The payload limits these settings describe, as the shared rules take them."""
        return Limits(
            objects_per_request=self.objects_per_request,
            combined_object_limit=self.combined_object_limit,
            max_body_bytes=self.max_body_bytes,
            bulk_objects_per_request=self.bulk_objects_per_request,
            bulk_max_body_bytes=self.bulk_max_body_bytes,
            delete_per_request=self.delete_per_request,
            string_max_chars=self.string_max_chars,
            external_id_max_bytes=self.external_id_max_bytes,
            quantity_max=self.quantity_max,
            array_max_items=self.array_max_items,
            nested_max_bytes=self.nested_max_bytes,
        )

    def faults(self) -> Faults:
        """The faults these settings start with."""
        return Faults(
            fail_rate=self.fail_rate,
            fail_statuses=tuple(self.fail_statuses),
            throttle_rate=self.throttle_rate,
            latency_ms=self.latency_ms,
            drop_before_rate=self.drop_before_rate,
            drop_after_rate=self.drop_after_rate,
        )
