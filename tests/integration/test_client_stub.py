"""Client behaviour the emulator cannot provoke, against a tiny stdlib server on loopback.

Each test scripts the answers: a fatal 400 caused by one object, bare-string `errors`,
a 429 with retry-after, a slow request, a timeout, an exhausted rate window.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dbt_braze.client import BrazeClient, ClientSettings, Item
from dbt_braze.errors import BrazeApiError

Answer = tuple[int, dict[str, Any], dict[str, str]]
KEY = "stub-key-98765"


class StubBraze:
    """Answers POSTs with `answer(body)`; keeps every body it received with its arrival time."""

    def __init__(self, answer: Callable[[dict[str, Any]], Answer]) -> None:
        self.answer = answer
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.received.append((time.monotonic(), body))
                status, payload, headers = stub.answer(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def objects(self, array: str) -> list[dict[str, Any]]:
        """Every object received in `array`, resends included."""
        return [obj for _, body in self.received for obj in body.get(array, [])]


@pytest.fixture
def stub() -> Iterator[Callable[..., StubBraze]]:
    servers: list[StubBraze] = []

    def start(answer: Callable[[dict[str, Any]], Answer]) -> StubBraze:
        servers.append(StubBraze(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def _client(server: StubBraze, **overrides: Any) -> BrazeClient:
    settings = {"backoff_base_s": 0.01, "backoff_max_s": 0.1, "timeout_s": 5.0, **overrides}
    return BrazeClient(ClientSettings(server.url, KEY, **settings), local_checks=False)


def _outcomes(client: BrazeClient, items: list[Item]) -> dict[Any, Any]:
    return {o.token: o for chunk in client.track(items) for o in chunk}


def _users(n: int) -> list[Item]:
    return [Item("attributes", {"external_id": f"u{i}", "v": i}, i) for i in range(n)]


def _events(n: int) -> list[Item]:
    return [
        Item("events", {"external_id": f"u{i}", "name": "e", "time": "2025-01-01"}, f"e{i}")
        for i in range(n)
    ]


OK: Answer = (201, {"message": "success"}, {})


def test_a_fatal_400_batch_of_75_with_one_bad_object_delivers_the_74_others(stub):
    def answer(body):
        if any(obj.get("poison") for obj in body.get("attributes", [])):
            return 400, {"message": "Bad Request"}, {}
        return OK

    server = stub(answer)
    items = _users(75)
    items[33].body["poison"] = True
    with _client(server) as client:
        outcomes = _outcomes(client, items)
        splits = client.stats.splits

    assert outcomes[33].delivered is False and outcomes[33].error == "HTTP 400: Bad Request"
    assert sum(o.delivered for o in outcomes.values()) == 74
    accepted = [
        obj
        for _, body in server.received
        if not any(o.get("poison") for o in body["attributes"])
        for obj in body["attributes"]
    ]
    assert sorted(o["v"] for o in accepted) == [i for i in range(75) if i != 33]
    assert 0 < splits <= 14  # a bisection, not one request per object


def test_bare_string_errors_pin_the_bad_attribute_by_resending(stub):
    def answer(body):
        bad = any(obj.get("v") == 6 for obj in body.get("attributes", []))
        return (
            201,
            {"message": "success", **({"errors": ["a value was refused"]} if bad else {})},
            {},
        )

    server = stub(answer)
    with _client(server) as client:
        outcomes = _outcomes(client, _users(10))
    assert outcomes[6] == type(outcomes[6])(6, False, "a value was refused")
    assert all(outcomes[i].delivered and not outcomes[i].uncertain for i in range(10) if i != 6)


def test_bare_string_errors_never_resend_events_and_flag_them_uncertain(stub):
    server = stub(lambda body: (201, {"message": "success", "errors": ["hmm"]}, {}))
    items = _events(5)
    with _client(server) as client:
        outcomes = _outcomes(client, items)
    assert all(o.delivered and o.uncertain and o.error == "hmm" for o in outcomes.values())
    assert len(server.objects("events")) == 5  # each event went out exactly once


def test_a_429_pauses_every_worker_for_retry_after(stub):
    state = {"throttled": False}
    lock = threading.Lock()

    def answer(body):
        with lock:
            if not state["throttled"]:
                state["throttled"] = True
                return 429, {"message": "Rate Limited"}, {"X-Ratelimit-Retry-After": "1"}
        return OK

    server = stub(answer)
    with _client(server, objects_per_request=1, concurrency=4) as client:
        outcomes = _outcomes(client, _users(12))
        assert client.stats.throttled == 1
    assert all(o.delivered for o in outcomes.values())
    arrivals = [t for t, _ in server.received]
    first = arrivals[0]
    # Requests already on the wire may land just after; none may start during the pause.
    late = [t for t in arrivals[1:] if t - first < 1.0]
    assert len(late) <= 4 - 1
    assert len(arrivals) == 13


def test_an_empty_rate_window_holds_requests_until_it_resets(stub):
    answers = iter(
        [(201, {"message": "success"}, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"})]
    )

    def answer(body):
        return next(answers, OK)

    server = stub(answer)
    with _client(server, objects_per_request=1, concurrency=1) as client:
        _outcomes(client, _users(2))
    (first, _), (second, _) = server.received
    assert second - first >= 0.9


def test_one_slow_request_does_not_stall_the_others(stub):
    release = threading.Event()

    def answer(body):
        if body["attributes"][0]["v"] == 0:
            release.wait(10)
        return OK

    server = stub(answer)
    order = []
    with _client(server, objects_per_request=1, concurrency=4) as client:
        for chunk in client.track(_users(30)):
            order += [o.token for o in chunk]
            if len(order) == 29:
                release.set()
    release.set()
    assert order[-1] == 0 and sorted(order) == list(range(30))


def test_a_timeout_is_retried(stub):
    calls = []

    def answer(body):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(1.5)
        return OK

    server = stub(answer)
    with _client(server, timeout_s=0.5) as client:
        outcomes = _outcomes(client, _users(3))
        stats = client.stats
    assert all(o.delivered for o in outcomes.values())
    assert stats.connection_errors == 1 and stats.retries == 1


def test_persistent_5xx_gives_up_with_the_last_error(stub):
    server = stub(lambda body: (503, {"message": "Service Unavailable"}, {}))
    with _client(server, max_retries=2) as client:
        outcomes = _outcomes(client, _users(3))
        stats = client.stats
    assert all(not o.delivered for o in outcomes.values())
    assert outcomes[0].error == (
        "not delivered after 2 retries; last error: HTTP 503: Service Unavailable"
    )
    assert stats.requests == 3 and stats.gave_up == 3


def test_tls_is_verified_and_a_failure_is_not_retried(stub):
    server = stub(lambda body: OK)
    settings = ClientSettings(server.url.replace("http://", "https://"), KEY, max_retries=5)
    with BrazeClient(settings) as client, pytest.raises(BrazeApiError, match="TLS"):
        _outcomes(client, _users(1))
    assert server.received == []


def test_a_refused_connection_is_retried_then_reported_not_delivered():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ClientSettings(f"http://127.0.0.1:{port}", KEY, max_retries=2, backoff_base_s=0.01)
    with BrazeClient(settings) as client:
        outcomes = _outcomes(client, _users(2))
        stats = client.stats
    assert all(not o.delivered and "cannot connect" in o.error for o in outcomes.values())
    assert stats.connection_errors == 3 and stats.ambiguous_resends == 0


def test_a_caller_that_stops_reading_leaves_the_client_usable(stub):
    server = stub(lambda body: OK)
    with _client(server, objects_per_request=5, concurrency=2) as client:
        for _ in client.track(_users(500)):
            break
        outcomes = _outcomes(client, _users(7))
    assert all(o.delivered for o in outcomes.values()) and len(outcomes) == 7
    # Only batches already queued were sent after the caller stopped, not the whole input.
    assert len(server.objects("attributes")) < 500
