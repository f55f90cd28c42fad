"""A fixed-window request limiter that answers with Braze's rate-limit headers."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may go ahead, and the headers that tell the client where it stands."""

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """`limit` requests per `window_s` seconds, windows aligned to the clock as Braze's are."""

    def __init__(self, limit: int, window_s: float, mode: str = "new") -> None:
        self.limit = limit
        self.window_s = window_s
        self.mode = mode
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._used = 0

    def take(self) -> RateDecision:
        """Count one request and decide; a limit of 0 allows everything."""
        now = time.time()
        with self._lock:
            start = math.floor(now / self.window_s) * self.window_s if self.window_s else now
            if start != self._window_start:
                self._window_start, self._used = start, 0
            self._used += 1
            used = self._used
        reset_in = max(0.0, start + self.window_s - now)
        if not self.limit:
            return RateDecision(True, self._headers(1_000_000, 1_000_000, start, reset_in))
        if used <= self.limit:
            return RateDecision(
                True, self._headers(self.limit, self.limit - used, start, reset_in)
            )
        retry_after = str(max(1, math.ceil(reset_in)))
        if self.mode == "new":
            # Braze's newer limits drop the three headers on a 429 and send only retry-after.
            return RateDecision(False, {"x-ratelimit-retry-after": retry_after})
        return RateDecision(False, self._headers(self.limit, 0, start, reset_in))

    def peek(self) -> dict[str, str]:
        """The headers for the current window without counting a request."""
        now = time.time()
        with self._lock:
            start = math.floor(now / self.window_s) * self.window_s if self.window_s else now
            used = self._used if start == self._window_start else 0
        limit = self.limit or 1_000_000
        return self._headers(limit, limit - used, start, max(0.0, start + self.window_s - now))

    def reset(self) -> None:
        """Forget the current window's count."""
        with self._lock:
            self._window_start, self._used = 0.0, 0

    def _headers(
        self, limit: int, remaining: int, start: float, reset_in: float
    ) -> dict[str, str]:
        # Legacy: reset is the UTC epoch second the window ends; new: seconds until it does.
        reset = math.ceil(start + self.window_s) if self.mode == "legacy" else math.ceil(reset_in)
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(reset),
        }
