"""One request limiter shared by every worker, steered by Braze's rate-limit headers.

The limiter is a sliding window: at most `limit` requests start in any `window_s` seconds.
A server-side token bucket of the same size never runs dry under it, and neither does a
fixed window, so a client at its limit draws no 429 from a Braze that agrees on the numbers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

EPOCH_THRESHOLD = 1e9  # a reset above this is a Unix timestamp, below it a number of seconds


@dataclass(frozen=True)
class RateHeaders:
    """What one response said about the rate limit; None where a header was absent."""

    limit: float | None = None
    remaining: float | None = None
    reset_in_s: float | None = None  # seconds from now until the window resets
    retry_after_s: float | None = None  # seconds from now until requests may resume


def parse_rate_headers(headers: Mapping[str, str], now_epoch: float) -> RateHeaders:
    """Read x-ratelimit-* headers, names in any case; reset may be epoch seconds or a delta."""
    wanted = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith("x-ratelimit-"):
            wanted[lowered[12:]] = value
    if not wanted:
        return RateHeaders()
    reset = _number(wanted.get("reset"))
    if reset is not None and reset > EPOCH_THRESHOLD:
        reset = max(0.0, reset - now_epoch)
    return RateHeaders(
        limit=_number(wanted.get("limit")),
        remaining=_number(wanted.get("remaining")),
        reset_in_s=reset,
        retry_after_s=_number(wanted.get("retry-after")),
    )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


def _slack(limit: float) -> float:
    # Braze's window and ours are not aligned: near its end, a few of the requests Braze
    # counted started just over one of our windows ago.
    return max(1.0, limit / 50)


class RateLimiter:
    """Grants request starts: at most `limit` in any `window_s`, none while paused."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._resume_at = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a slot now and return 0, or return how long to wait before asking again."""
        with self._lock:
            now = self._clock()
            if now < self._resume_at:
                return self._resume_at - now
            starts = self._starts
            horizon = now - self.window_s
            while starts and starts[0] <= horizon:
                starts.popleft()
            if len(starts) >= self.limit:
                return starts[0] - horizon
            starts.append(now)
            return 0.0

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Block until a request may start; False if `stop` was set while waiting."""
        while True:
            wait = self.reserve()
            if wait <= 0:
                return True
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                self._sleep(wait)

    def pause_for(self, seconds: float) -> None:
        """Hold every worker for `seconds` from now (a 429's retry-after, or an empty window)."""
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    def observe(self, rate: RateHeaders) -> None:
        """Follow what Braze said: no requests left means wait for the window to reset.

        Unless every request Braze counted is one of ours in our own window: then the window
        is full by our own doing, and the sliding window already waits exactly as long as it
        must. Pausing until the reset as well (which Braze rounds up to a whole second) cost
        a tenth of a full limit's throughput. Someone else spending the same limit, or an
        hourly budget running out, still pauses everyone."""
        # Known limitation: a lower x-ratelimit-limit than configured is not adopted; the
        # client keeps its own rate and relies on remaining=0 and 429s to slow down.
        if rate.remaining is None or rate.remaining > 0 or not rate.reset_in_s:
            return
        if rate.limit is not None and self._own_starts() >= rate.limit - _slack(rate.limit):
            return
        self.pause_for(rate.reset_in_s)

    def _own_starts(self) -> int:
        """Requests started in the last window (those Braze's window can hold)."""
        with self._lock:
            horizon = self._clock() - self.window_s
            return sum(1 for start in self._starts if start > horizon)
