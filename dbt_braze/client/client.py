"""BrazeClient: sends objects to Braze through a worker pool and yields per-object outcomes."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from dbt_braze.client.batching import Batch, Packer, Validator, delete_entries, track_entries
from dbt_braze.client.outcomes import ClientStats, DeleteItem, Item, Outcome, StatsCounter
from dbt_braze.client.ratelimit import RateLimiter
from dbt_braze.client.responses import (
    Reading,
    read_accepted,
    read_fatal,
    reject_all,
    resend_safe,
)
from dbt_braze.client.retry import Backoff, Verdict, verdict
from dbt_braze.client.settings import ClientSettings
from dbt_braze.client.transport import Reply, Transport, TransportFailure
from dbt_braze.client.validation import local_validator
from dbt_braze.errors import BrazeApiError, BrazeAuthError
from dbt_braze.log import logger, redact, register_secret

TRACK_PATH = "/users/track"
DELETE_PATH = "/users/delete"


class BrazeClient:
    """Sends /users/track and /users/delete batches at Braze's pace, retrying what is worth it."""

    def __init__(self, settings: ClientSettings, *, local_checks: bool = True) -> None:
        """`local_checks=False` sends objects unchecked (tests of Braze's own rejections)."""
        register_secret(settings.api_key)
        self.settings = settings
        self._validate: Validator | None = local_validator() if local_checks else None
        self._transport = Transport(settings)
        # Known limitation: the limiter is per process; two syncs at once share Braze's limit
        # only through its headers and 429s.
        self._limiter = RateLimiter(settings.rate_limit, settings.rate_window_s)
        self._backoff = Backoff(settings.backoff_base_s, settings.backoff_max_s)
        self._stats = StatsCounter()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="braze")
        # Batches queued beyond those being sent keep every worker busy while the caller
        # handles outcomes; twice the pool bounds memory at about 2 x concurrency batches.
        self._max_queued = 2 * settings.concurrency

    def track(self, items: Iterable[Item]) -> Iterator[list[Outcome]]:
        """Send every item; yield outcomes, in the caller's thread, as requests finish."""
        s = self.settings
        packer = Packer(
            TRACK_PATH,
            per_request=s.objects_per_request,
            combined=s.combined_object_limit,
            max_body_bytes=s.max_body_bytes,
        )
        return self._run(packer.pack(track_entries(items, self._validate)))

    def delete(self, items: Iterable[DeleteItem]) -> Iterator[list[Outcome]]:
        """Remove every user named; one identifier type and at most delete_per_request a call."""
        s = self.settings
        packer = Packer(
            DELETE_PATH,
            per_request=s.delete_per_request,
            combined=True,
            max_body_bytes=s.max_body_bytes,
            one_array_per_request=True,
        )
        return self._run(packer.pack(delete_entries(items)))

    @property
    def stats(self) -> ClientStats:
        """Counters so far: requests, retries, objects, rejections, 429s, bytes, ..."""
        return self._stats.snapshot()

    def close(self) -> None:
        """Stop retrying, wait for requests in flight and release connections."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._transport.close()

    def __enter__(self) -> BrazeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, work: Iterator[Batch | Outcome]) -> Iterator[list[Outcome]]:
        """Feed batches to the pool with bounded look-ahead; yield results as they complete."""
        in_flight: set[Future[list[Outcome]]] = set()
        # Workers hand finished futures back through one queue: cheaper than wait(), which
        # installs and removes a waiter on every future in flight each time it is called.
        finished: queue.SimpleQueue[Future[list[Outcome]]] = queue.SimpleQueue()
        exhausted = False
        try:
            while True:
                local: list[Outcome] = []
                while not exhausted and len(in_flight) < self._max_queued:
                    piece = next(work, None)
                    if piece is None:
                        exhausted = True
                    elif isinstance(piece, Outcome):
                        self._stats.add(objects=1)
                        local.append(piece)
                        if len(local) >= self.settings.objects_per_request:
                            break
                    else:
                        self._stats.add(objects=len(piece.entries))
                        future = self._pool.submit(self._deliver, piece)
                        in_flight.add(future)
                        future.add_done_callback(finished.put)
                if local:
                    self._stats.add(rejected=len(local), rejected_locally=len(local))
                    yield local
                    continue
                if not in_flight:
                    return
                future = finished.get()
                in_flight.discard(future)
                outcomes = future.result()
                if outcomes:
                    yield outcomes
        except GeneratorExit:
            raise  # the caller stopped reading: drop queued batches, keep the client usable
        except BaseException:
            self._stop.set()  # a stopping error: workers end their retries at once
            raise
        finally:
            for future in in_flight:
                future.cancel()

    def _deliver(self, batch: Batch) -> list[Outcome]:
        """Send one batch to a verdict for every object, splitting it when Braze asks."""
        outcomes: list[Outcome] = []
        todo = deque([batch])
        while todo:
            current = todo.popleft()
            reply, failure = self._send(current)
            if reply is None:
                outcomes += reject_all(current, failure)
                self._stats.add(gave_up=len(current.entries), rejected=len(current.entries))
                continue
            settled = self._settle(current, reply)
            outcomes += settled.outcomes
            todo.extend(settled.resend)
            if settled.resend:
                self._stats.add(splits=1)
        return outcomes

    def _settle(self, batch: Batch, reply: Reply) -> Reading:
        """Turn a final answer into outcomes (and batches to resend), or raise if fatal."""
        kind = verdict(reply.status)
        if kind is Verdict.ACCEPTED:
            reading = read_accepted(batch, reply)
        elif kind is Verdict.SPLIT:
            reading = read_fatal(batch, reply)
        elif kind is Verdict.AUTH:
            raise _auth_error(reply)
        elif kind is Verdict.NOT_FOUND:
            raise BrazeApiError(
                f"Braze answered 404 Not Found for {self.settings.base_url}{batch.path}",
                status=404,
                hint="Check BRAZE_REST_ENDPOINT: it should be your instance's REST endpoint, "
                "such as https://rest.iad-01.braze.com, with no path.",
            )
        else:
            reading = Reading(reject_all(batch, f"HTTP {reply.status}: {redact(reply.message())}"))
        delivered = sum(1 for o in reading.outcomes if o.delivered)
        uncertain = sum(1 for o in reading.outcomes if o.uncertain)
        self._stats.add(
            delivered=delivered,
            uncertain=uncertain,
            rejected=len(reading.outcomes) - delivered,
        )
        return reading

    def _send(self, batch: Batch) -> tuple[Reply | None, str]:
        """POST the batch until an answer that is not transient; (None, why) after max_retries."""
        body = batch.encode()
        last_error = "not sent"
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                self._stats.add(retries=1)
            if not self._limiter.acquire(self._stop):
                return None, "not sent: the run was stopped"
            self._stats.add(requests=1, bytes_sent=len(body))
            try:
                reply = self._transport.post(batch.path, body)
            except TransportFailure as failure:
                last_error = str(failure)
                self._stats.add(connection_errors=1)
                if failure.maybe_sent:
                    self._note_ambiguous(batch, last_error)
                self._pause(self._backoff.delay(attempt))
                continue
            self._limiter.observe(reply.rate)
            if verdict(reply.status) is not Verdict.RETRY:
                return reply, ""
            last_error = f"HTTP {reply.status}: {reply.message()}"
            if reply.status == 429:
                self._stats.add(throttled=1)
                rate = reply.rate
                pause = rate.retry_after_s if rate.retry_after_s is not None else rate.reset_in_s
                # Every worker waits out a 429, not only the one that drew it.
                self._limiter.pause_for(pause if pause else self._backoff.delay(attempt))
            else:
                self._stats.add(server_errors=1)
                self._pause(self._backoff.delay(attempt))
        retries = self.settings.max_retries
        return None, f"not delivered after {retries} retries; last error: {redact(last_error)}"

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _note_ambiguous(self, batch: Batch, error: str) -> None:
        """Count the objects Braze might apply twice because a lost answer makes us resend."""
        # Known limitation: after a lost answer everything is resent, events, purchases and
        # `inc` included; Braze may then count them twice (the sync's journal reports them).
        unsafe = sum(1 for e in batch.entries if not resend_safe(e))
        if unsafe:
            # The sync journals in-flight events and purchases, so a resend is reported there.
            self._stats.add(ambiguous_resends=unsafe)
            logger.debug("resending %d events/purchases after: %s", unsafe, redact(error))


def _auth_error(reply: Reply) -> BrazeAuthError:
    label = "Unauthorized" if reply.status == 401 else "Forbidden"
    said = redact(reply.message())
    return BrazeAuthError(
        f"Braze answered {reply.status} {label}" + (f": {said}" if said else ""),
        status=reply.status,
        hint="Check BRAZE_API_KEY: it must be a REST API key of this workspace with the "
        "users.track (and, for deletes, users.delete) permission, and BRAZE_REST_ENDPOINT "
        "must be the instance the workspace lives on (e.g. https://rest.iad-01.braze.com).",
    )
