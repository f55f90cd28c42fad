"""What the client needs to know to talk to one Braze workspace, checked once up front."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dbt_braze.errors import ConfigError

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


@dataclass(frozen=True)
class ClientSettings:
    """Endpoint, key and every Braze limit; limits differ by contract, so all are settable."""

    endpoint: str
    api_key: str = field(repr=False)
    objects_per_request: int = 75
    combined_object_limit: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    rate_limit: int = 3000
    rate_window_s: float = 3.0
    max_retries: int = 8
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0
    timeout_s: float = 30.0
    concurrency: int = 8
    allow_insecure_http: bool = False
    delete_per_request: int = 50

    def __post_init__(self) -> None:
        problems = [*_endpoint_problems(self.endpoint, self.allow_insecure_http)]
        if not self.api_key:
            problems.append("The Braze API key is empty: set BRAZE_API_KEY.")
        positive = {
            "objects_per_request": self.objects_per_request,
            "max_body_bytes": self.max_body_bytes,
            "rate_limit": self.rate_limit,
            "rate_window_s": self.rate_window_s,
            "timeout_s": self.timeout_s,
            "concurrency": self.concurrency,
            "delete_per_request": self.delete_per_request,
        }
        problems += [
            f"{name} must be greater than 0, got {v!r}"
            for name, v in positive.items()
            if not v > 0
        ]
        if self.max_retries < 0 or self.backoff_base_s < 0 or self.backoff_max_s < 0:
            problems.append("max_retries, backoff_base_s and backoff_max_s must not be negative")
        if problems:
            raise ConfigError(problems)

    @property
    def base_url(self) -> str:
        """The endpoint without a trailing slash, ready to append `/users/track`."""
        return self.endpoint.rstrip("/")


def _endpoint_problems(endpoint: str, allow_insecure_http: bool) -> list[str]:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            f"BRAZE_REST_ENDPOINT {endpoint!r} is not a URL like https://rest.iad-01.braze.com"
        ]
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        # The key travels in a header: plain HTTP is only safe when it never leaves the machine.
        return [
            f"BRAZE_REST_ENDPOINT {endpoint!r} uses plain http to a remote host; use https "
            "(or allow_insecure_http for a trusted network)"
        ]
    return []


def is_loopback(host: str) -> bool:
    """True when `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
