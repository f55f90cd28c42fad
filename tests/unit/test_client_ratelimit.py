"""The shared limiter and the reading of Braze's rate-limit headers, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbt_braze.client.ratelimit import RateHeaders, RateLimiter, parse_rate_headers

NOW = 1_760_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_headers_are_read_in_any_case_and_reset_as_a_delta():
    rate = parse_rate_headers(
        {"X-RateLimit-Limit": "3000", "x-ratelimit-REMAINING": "12", "X-Ratelimit-Reset": "2"},
        NOW,
    )
    assert rate == RateHeaders(limit=3000, remaining=12, reset_in_s=2, retry_after_s=None)


def test_reset_above_1e9_is_an_epoch_time():
    rate = parse_rate_headers({"x-ratelimit-reset": str(int(NOW) + 7)}, NOW)
    assert rate.reset_in_s == pytest.approx(7)
    assert parse_rate_headers({"x-ratelimit-reset": str(int(NOW) - 5)}, NOW).reset_in_s == 0


def test_retry_after_and_garbage():
    rate = parse_rate_headers(
        {"X-Ratelimit-Retry-After": "1.5", "x-ratelimit-limit": "lots", "Retry-After": "99"}, NOW
    )
    assert rate.retry_after_s == 1.5 and rate.limit is None
    assert parse_rate_headers({"Content-Type": "application/json"}, NOW) == RateHeaders()
    assert parse_rate_headers({"x-ratelimit-retry-after": "-3"}, NOW).retry_after_s is None


def test_limiter_grants_the_limit_then_waits_for_the_oldest_to_leave_the_window():
    clock = FakeClock()
    limiter = RateLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    assert [limiter.reserve() for _ in range(3)] == [0, 0, 0]
    assert limiter.reserve() == pytest.approx(1.0)
    clock.now += 0.4
    assert limiter.reserve() == pytest.approx(0.6)
    limiter.acquire()
    assert clock.now == pytest.approx(101.0)


def test_pause_holds_everyone_and_headers_with_nothing_remaining_pause():
    clock = FakeClock()
    limiter = RateLimiter(100, 1.0, clock=clock, sleep=clock.sleep)
    limiter.pause_for(2.5)
    assert limiter.reserve() == pytest.approx(2.5)
    limiter.pause_for(1.0)  # a shorter pause never shortens a longer one
    assert limiter.reserve() == pytest.approx(2.5)
    clock.now += 2.5
    assert limiter.reserve() == 0
    limiter.observe(RateHeaders(remaining=0, reset_in_s=4))
    assert limiter.reserve() == pytest.approx(4)
    clock.now += 4
    limiter.observe(RateHeaders(remaining=5, reset_in_s=4))
    assert limiter.reserve() == 0


def test_nothing_remaining_of_a_window_full_of_our_own_requests_needs_no_pause():
    clock = FakeClock()
    limiter = RateLimiter(100, 3.0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        assert limiter.reserve() == 0
        clock.now += 0.02
    # Braze counted exactly our 100: the sliding window alone decides when the next may go.
    limiter.observe(RateHeaders(limit=100, remaining=0, reset_in_s=3))
    assert limiter.reserve() == pytest.approx(3.0 - 100 * 0.02)
    clock.now += 1.01  # the oldest start has left the window
    assert limiter.reserve() == 0


def test_nothing_remaining_that_others_spent_pauses_until_the_reset():
    clock = FakeClock()
    limiter = RateLimiter(100, 3.0, clock=clock, sleep=clock.sleep)
    for _ in range(40):  # our 40 of the 100 Braze counted: another client spent the rest
        limiter.reserve()
    limiter.observe(RateHeaders(limit=100, remaining=0, reset_in_s=2))
    assert limiter.reserve() == pytest.approx(2.0)
    # An hourly budget (a limit far above our window's) running out pauses as well.
    clock.now += 2
    limiter.observe(RateHeaders(limit=50_000, remaining=0, reset_in_s=900))
    assert limiter.reserve() == pytest.approx(900)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20), st.floats(0.1, 5), st.lists(st.floats(0, 0.5), max_size=200))
def test_no_window_ever_holds_more_than_the_limit(limit, window, gaps):
    clock = FakeClock()
    limiter = RateLimiter(limit, window, clock=clock, sleep=clock.sleep)
    starts = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        starts.append(clock.now)
    for i, start in enumerate(starts):
        within = [s for s in starts[i:] if s < start + window - 1e-9]
        assert len(within) <= limit
