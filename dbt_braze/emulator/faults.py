"""Decide, per request, which injected fault (if any) it meets."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields, replace
from typing import Any

from dbt_braze.emulator.settings import Faults


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: a pause, a drop before or after, or a forced status."""

    latency_s: float = 0.0
    drop_before: bool = False
    status: int | None = None  # 429 or a 5xx answered instead of handling the request
    drop_after: bool = False


class FaultInjector:
    """Holds the current `Faults`; deterministic counters win over the seeded random rates."""

    def __init__(self, faults: Faults, seed: int | None = None) -> None:
        self._faults = faults
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._failed = 0

    @property
    def faults(self) -> Faults:
        """A copy of the faults now in force."""
        with self._lock:
            return replace(self._faults)

    def update(self, **changes: Any) -> Faults:
        """Change some fault settings at run time; unknown names raise ValueError."""
        known = {f.name for f in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if "fail_statuses" in changes:
            changes["fail_statuses"] = tuple(int(s) for s in changes["fail_statuses"])
        with self._lock:
            self._faults = replace(self._faults, **changes)
            return replace(self._faults)

    def plan(self) -> FaultPlan:
        """Draw the fate of the next request."""
        with self._lock:
            f = self._faults
            latency = f.latency_ms / 1000.0
            if f.drop_before_next > 0:
                f.drop_before_next -= 1
                return FaultPlan(latency, drop_before=True)
            if f.throttle_next > 0:
                f.throttle_next -= 1
                return FaultPlan(latency, status=429)
            if f.fail_next > 0:
                f.fail_next -= 1
                return FaultPlan(latency, status=self._next_failure(f))
            if f.drop_after_next > 0:
                f.drop_after_next -= 1
                return FaultPlan(latency, drop_after=True)
            rng = self._rng
            if f.drop_before_rate and rng.random() < f.drop_before_rate:
                return FaultPlan(latency, drop_before=True)
            if f.throttle_rate and rng.random() < f.throttle_rate:
                return FaultPlan(latency, status=429)
            if f.fail_rate and rng.random() < f.fail_rate:
                return FaultPlan(latency, status=self._next_failure(f))
            drop_after = bool(f.drop_after_rate) and rng.random() < f.drop_after_rate
            return FaultPlan(latency, drop_after=drop_after)

    def _next_failure(self, f: Faults) -> int:
        statuses = f.fail_statuses or (500,)
        status = statuses[self._failed % len(statuses)]
        self._failed += 1
        return status
