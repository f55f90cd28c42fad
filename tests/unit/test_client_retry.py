"""Which statuses are retried, and the backoff between tries."""

from __future__ import annotations

import random

import pytest

from dbt_braze.client.retry import Backoff, Verdict, verdict


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.ACCEPTED),
        (201, Verdict.ACCEPTED),
        (202, Verdict.ACCEPTED),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (408, Verdict.RETRY),
        (400, Verdict.SPLIT),
        (413, Verdict.SPLIT),
        (401, Verdict.AUTH),
        (403, Verdict.AUTH),
        (404, Verdict.NOT_FOUND),
        (405, Verdict.REJECT),
        (422, Verdict.REJECT),
    ],
)
def test_verdicts(status, expected):
    assert verdict(status) is expected


def test_backoff_doubles_within_jitter_and_stops_at_the_cap():
    backoff = Backoff(0.5, 10.0, random.Random(7))
    for attempt in range(12):
        ceiling = min(10.0, 0.5 * 2**attempt)
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not constant
    assert backoff.delay(10_000) <= 10.0
