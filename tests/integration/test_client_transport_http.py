"""The HTTP layer against loopback servers: TLS verified, connections kept alive and renewed."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dbt_braze.client import ClientSettings
from dbt_braze.client.transport import Transport, TransportFailure
from dbt_braze.errors import BrazeApiError
from tests.fixtures.tls import self_signed_certificate

KEY = "transport-key-4321"


class _Server:
    """A loopback HTTP/1.1 server answering every POST with a small JSON success."""

    def __init__(self, context: ssl.SSLContext | None = None, *, close: bool = False) -> None:
        self.paths: list[str] = []
        self.connections = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                server.paths.append(self.path)
                data = b'{"message":"success"}'
                self.send_response(201)
                self.send_header("Content-Length", str(len(data)))
                if close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and no other name)."""
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[_Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = _Server(context)
    yield server
    server.stop()


def _transport(url: str, **settings: Any) -> Transport:
    return Transport(ClientSettings(url, KEY, timeout_s=5, **settings))


def test_a_trusted_certificate_is_used_and_the_connection_kept_alive(tls_server, certificate):
    transport = _transport(f"https://127.0.0.1:{tls_server.port}/api")
    assert transport._context is not None
    transport._context.load_verify_locations(certificate[0])  # trust this one certificate
    replies = [transport.post("/users/track", b'{"attributes":[]}') for _ in range(3)]
    transport.close()
    assert [r.status for r in replies] == [201] * 3
    assert replies[0].payload == {"message": "success"}
    assert tls_server.paths == ["/api/users/track"] * 3
    assert tls_server.connections == 1


def test_an_untrusted_certificate_stops_before_anything_is_sent(tls_server):
    transport = _transport(f"https://127.0.0.1:{tls_server.port}")
    with pytest.raises(BrazeApiError, match="TLS verification failed"):
        transport.post("/users/track", b"{}")
    transport.close()
    assert tls_server.paths == []


def test_a_certificate_for_another_host_is_refused(tls_server, certificate):
    transport = _transport(
        f"https://localhost:{tls_server.port}"
    )  # the certificate names 127.0.0.1
    assert transport._context is not None
    transport._context.load_verify_locations(certificate[0])
    with pytest.raises(BrazeApiError, match="TLS verification failed"):
        transport.post("/users/track", b"{}")
    transport.close()
    assert tls_server.paths == []


def test_a_connection_the_server_closed_is_replaced_without_an_error():
    server = _Server(close=True)  # every answer says Connection: close
    transport = _transport(f"http://127.0.0.1:{server.port}")
    statuses = [transport.post("/users/track", b"{}").status for _ in range(3)]
    transport.close()
    server.stop()
    assert statuses == [201] * 3 and server.connections == 3


def test_an_idle_connection_dropped_by_the_server_is_replaced_without_an_error():
    server = _Server()
    transport = _transport(f"http://127.0.0.1:{server.port}")
    assert transport.post("/users/track", b"{}").status == 201
    (idle,) = transport._idle
    assert idle.sock is not None
    idle.sock.shutdown(2)  # as when the server closes a kept-alive connection: reads EOF
    assert transport.post("/users/track", b"{}").status == 201
    transport.close()
    server.stop()
    assert server.connections == 2


def test_a_refused_connection_is_known_not_sent():
    server = _Server()
    port = server.port
    server.stop()
    transport = _transport(f"http://127.0.0.1:{port}")
    with pytest.raises(TransportFailure, match="cannot connect") as failure:
        transport.post("/users/track", b"{}")
    assert failure.value.maybe_sent is False
    transport.close()
