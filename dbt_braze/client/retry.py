"""Which answers are worth another try, and how long to wait before it."""

from __future__ import annotations

import random
from enum import Enum

# 408 and 425 are a proxy's way of saying "try again"; Braze documents 429 and 5xx.
_TRANSIENT_4XX = {408, 425, 429}


class Verdict(Enum):
    """What the client does with an HTTP status."""

    ACCEPTED = "accepted"  # 2xx: read `errors` for per-object rejections
    RETRY = "retry"  # 429, 5xx: wait and send the same body again
    SPLIT = "split"  # 400, 413: the body or one object is bad; isolate it
    AUTH = "auth"  # 401, 403: the key is wrong; stop the whole run
    NOT_FOUND = "not_found"  # 404: the endpoint is wrong; stop the whole run
    REJECT = "reject"  # any other status: the batch's objects are refused as they are


def verdict(status: int) -> Verdict:
    """Classify an HTTP status for /users/track and /users/delete."""
    if 200 <= status < 300:
        return Verdict.ACCEPTED
    if status in _TRANSIENT_4XX or status >= 500:
        return Verdict.RETRY
    if status in (400, 413):
        return Verdict.SPLIT
    if status in (401, 403):
        return Verdict.AUTH
    if status == 404:
        return Verdict.NOT_FOUND
    return Verdict.REJECT


class Backoff:
    """Exponential backoff with jitter: attempt n waits base * 2**n, capped, times 0.5 to 1."""

    def __init__(self, base_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry)."""
        ceiling = min(self.max_s, self.base_s * 2 ** min(attempt, 62))
        # Half fixed, half random: workers that failed together do not retry together.
        return ceiling * (0.5 + 0.5 * self._rng.random())
