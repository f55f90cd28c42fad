"""The API key never leaks: not in logs (text, JSON, --debug), errors, tables or plan output,
even when Braze refuses it or fails; TLS is always verified; plain http only on loopback."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dbt_braze.client import ClientSettings
from dbt_braze.emulator import Emulator
from dbt_braze.errors import ConfigError
from tests.braze_cli import dbt_braze
from tests.fixtures.dbt_project import ExampleProject
from tests.fixtures.tls import self_signed_certificate

KEY = "sk-live-SECRET-7f3a9c0d2e"
WRONG_KEY = "sk-live-WRONGKEY-b81e44"
# --debug prints every line plain text does, and more.
MODES = (("--debug",), ("--log-format", "json", "--debug"))
SYNC = ("sync",)  # no selection: `-s` would cost a `dbt ls` per run


def _no_key(text: str, *keys: str) -> None:
    for key in keys:
        # Also no recognisable part of it (a key cut short is still a leak).
        for part in (key, key[-12:], key[:12]):
            assert part not in text, f"{part!r} leaked:\n{text[-3000:]}"


def _tables_text(project: ExampleProject) -> str:
    rows = project.query("select * from analytics_braze.run_log")
    rows += project.query("select * from analytics_braze.rejections")
    return repr(rows)


@pytest.fixture(scope="module")
def built(example_project_factory: Callable[..., ExampleProject]) -> ExampleProject:
    project = example_project_factory("duckdb", name="secrets")
    project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    return project


def test_wrong_key_stops_at_once_and_is_never_shown(
    built: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    emulator = emulator_factory(api_key=KEY)
    wrong = _Endpoint(emulator.url, WRONG_KEY)
    for mode in MODES:
        done = dbt_braze(built, *SYNC, *mode, emulator=wrong, expect=2)  # type: ignore[arg-type]
        output = done.stdout + done.stderr
        assert "401" in output and "BRAZE_API_KEY" in output, output
        _no_key(output, WRONG_KEY, KEY)
    # The first 401 stops the run: one request per run, not one per batch.
    assert emulator.stats()["requests"] <= len(MODES) * 8  # at most the requests in flight
    _no_key(_tables_text(built), WRONG_KEY, KEY)


def test_failing_requests_never_show_the_key(
    built: ExampleProject, emulator_factory: Callable[..., Emulator]
) -> None:
    emulator = emulator_factory(api_key=KEY)
    emulator.set_faults(fail_rate=1.0, fail_statuses=(500, 502, 503))
    for mode in MODES:
        done = dbt_braze(
            built, *SYNC, "--full-refresh", *mode, emulator=emulator,
            settings={"max_retries": 1}, expect=1,
        )  # fmt: skip
        output = done.stdout + done.stderr
        assert "rejected=200 " in output or '"rejected": 200' in output, output[-2000:]
        _no_key(output, KEY)
    messages = built.query("select distinct message from analytics_braze.rejections")
    assert any("HTTP 50" in str(m[0]) for m in messages), messages
    _no_key(_tables_text(built), KEY)

    plan = dbt_braze(built, "plan", "--debug", emulator=emulator)
    assert "sample:" in plan.stdout
    _no_key(plan.stdout + plan.stderr, KEY)


def test_plain_http_is_refused_off_loopback(built: ExampleProject, emulator: Emulator) -> None:
    for endpoint in ("http://rest.iad-01.braze.com", "ftp://x"):
        done = dbt_braze(
            built,
            *SYNC,
            emulator=_Endpoint(endpoint, KEY),
            expect=2,  # type: ignore[arg-type]
        )
        assert "ConfigError" in done.stdout and "BRAZE_REST_ENDPOINT" in done.stdout, done.stdout
        _no_key(done.stdout + done.stderr, KEY)
    for endpoint in ("http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"):
        ClientSettings(endpoint, KEY)  # loopback: allowed
    with pytest.raises(ConfigError, match="plain http"):
        ClientSettings("http://braze.internal", KEY)
    ClientSettings("http://braze.internal", KEY, allow_insecure_http=True)


class _Endpoint:
    """Stands in for an emulator where only a URL and a key are needed."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url, self.api_key = url, api_key


@pytest.fixture
def untrusted_tls(tmp_path: Path) -> Iterator[str]:
    """An https server on loopback with a self-signed certificate nobody trusts."""
    cert, key = self_signed_certificate(tmp_path)
    received: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.path)
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    assert received == [], "a request went through an unverified TLS connection"


def test_tls_verification_cannot_be_turned_off(built: ExampleProject, untrusted_tls: str) -> None:
    # The usual ways to switch verification off in Python must not reach dbt-braze.
    env_tricks = {"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "", "PYTHONHTTPSVERIFY": "0"}
    original = built.env

    class Patched(ExampleProject):
        @property
        def env(self) -> dict[str, str]:
            return {**original, **env_tricks}

    patched = Patched(built.path, built.target, built.pg)
    done = dbt_braze(patched, *SYNC, emulator=_Endpoint(untrusted_tls, KEY), expect=None)  # type: ignore[arg-type]
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "TLS verification failed" in output, output[-3000:]
    assert "Traceback" not in output
    _no_key(output, KEY)
    for setting in ("verify_ssl",):
        done = dbt_braze(
            built,
            *SYNC,
            emulator=_Endpoint(untrusted_tls, KEY),  # type: ignore[arg-type]
            settings={setting: False},
            expect=2,
        )
        assert "unknown setting" in done.stdout
