"""The HTTP side of the emulator: a threaded stdlib server on loopback, and the `Emulator` API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from dbt_braze.emulator.app import CONTROL_PREFIX, BrazeApp, Reply
from dbt_braze.emulator.settings import EmulatorSettings, Faults

# A body the handler did not read is drained to keep the connection when it is this small.
_DRAIN_MAX_BYTES = 8 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of Braze use it
    timeout = 60  # idle keep-alive connections are closed after a minute
    # Without this, Nagle's algorithm meets the client's delayed ACK: 40 ms per answer.
    disable_nagle_algorithm = True
    app: BrazeApp  # set on the subclass made for each Emulator

    def version_string(self) -> str:
        return "braze-emulator"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines would drown the console; the stats endpoint has the counts

    def _handle(self, method: str) -> None:
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            length = None
        consumed = False

        def read_body(n: int) -> bytes:
            nonlocal consumed
            consumed = True
            return self.rfile.read(n)

        if self.path.startswith(CONTROL_PREFIX):
            reply = self.app.control(method, self.path, read_body(length or 0))
        else:
            reply = self.app.braze(
                method, self.path, self.headers.get("Authorization"), length, read_body
            )

        if reply.drop_before or reply.drop_after:
            self.close_connection = True  # closed by the server without a byte of answer
            return
        close = reply.close
        if not consumed and length:
            if length <= _DRAIN_MAX_BYTES:
                self.rfile.read(length)
            else:
                close = True
        self._send(reply, close)

    def _send(self, reply: Reply, close: bool) -> None:
        payload = json.dumps(reply.body).encode()
        # Counted before the answer leaves: a client that reads the stats as soon as it has
        # its answer must find it counted.
        self.app.note_status(reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Emulator:
    """A local Braze REST API on loopback, started in a background thread.

    `with Emulator(EmulatorSettings(api_key="k")) as emu: ...` or `.start()` / `.stop()`.
    """

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.app = BrazeApp(self.settings)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind the port and serve in a daemon thread; returns self."""
        handler = type("Handler", (_Handler,), {"app": self.app})
        self._server = _Server((self.settings.host, self.settings.port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="braze-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port=0)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to use as BRAZE_REST_ENDPOINT, e.g. `http://127.0.0.1:4010`."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The key requests must carry as `Authorization: Bearer <key>`."""
        return self.settings.api_key

    def set_faults(self, **changes: Any) -> Faults:
        """Change injected faults at run time (names as in `Faults`); returns them all."""
        return self.app.faults.update(**changes)

    def user(self, external_id: str) -> dict[str, Any] | None:
        """The profile with this external_id (identifiers and attributes, flat), or None."""
        return self.app.user(external_id)

    def find_user(self, **identifier: str) -> dict[str, Any] | None:
        """A profile by `alias_name`+`alias_label`, `braze_id`, `email` or `phone`."""
        return self.app.find_user(**identifier)

    def users(self) -> list[dict[str, Any]]:
        """Every profile, in creation order."""
        return self.app.users()

    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order (resends are kept: Braze never de-duplicates)."""
        return self.app.events()

    def purchases(self) -> list[dict[str, Any]]:
        """Every purchase received, in order."""
        return self.app.purchases()

    def stats(self) -> dict[str, Any]:
        """Counters: requests, objects, data_points, rejections, statuses, rate_limited, ..."""
        return self.app.store.stats()

    def reset(self) -> None:
        """Forget all profiles, events, purchases, counters and rate-limit windows."""
        self.app.reset()
