"""The HTTP layer: kept-alive connections, TLS verified, a timeout on every call.

It drives the standard library's `http.client` directly: urllib3's pool and requests' adapter
cost about half the client's CPU a request again, for features (proxies, redirects, retries,
decoding) the client turns off. The CA bundle is requests' own, as before.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.util import wait_for_read

from dbt_braze.client.ratelimit import RateHeaders, parse_rate_headers
from dbt_braze.client.settings import ClientSettings
from dbt_braze.errors import BrazeApiError
from dbt_braze.log import redact


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, body already parsed (None when it was not a JSON object)."""

    status: int
    payload: dict[str, Any] | None
    text: str
    rate: RateHeaders

    def message(self) -> str:
        """Braze's `message`, else the start of the body, for error reports."""
        if self.payload is not None and isinstance(self.payload.get("message"), str):
            return str(self.payload["message"])
        return self.text[:200].strip()


class TransportFailure(Exception):
    """No HTTP answer: a timeout, a refused or dropped connection."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        # False only when the request surely never reached the server (connect failed).
        self.maybe_sent = maybe_sent


class Transport:
    """POSTs JSON bodies to one Braze endpoint over a pool of kept-alive connections."""

    def __init__(self, settings: ClientSettings) -> None:
        self.base_url = settings.base_url
        parts = urlsplit(self.base_url)
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path
        self._timeout_s = settings.timeout_s
        # Verification required, hostname checked, requests' CA bundle; nothing read from the
        # environment, so no variable can turn verification off or swap the CAs.
        self._context: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._context = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.check_hostname = True
        self._headers = {
            "Authorization": f"Bearer {settings.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "dbt-braze",
        }
        self._idle: list[http.client.HTTPConnection] = []  # most recently used last
        self._lock = threading.Lock()
        self._closed = False

    def post(self, path: str, body: bytes) -> Reply:
        """Send one body; raise TransportFailure when no HTTP answer came back."""
        connection = self._connection()
        try:
            connection.request("POST", self._prefix + path, body, self._headers)
            response = connection.getresponse()
            raw = response.read()
        except BaseException as exc:
            connection.close()  # never reuse a connection in an unknown state
            if isinstance(exc, ssl.SSLError):
                raise _tls_error(self.base_url, exc) from exc
            if isinstance(exc, TimeoutError):
                raise TransportFailure(
                    f"no answer within {self._timeout_s}s", maybe_sent=True
                ) from exc
            if isinstance(exc, (http.client.HTTPException, OSError)):
                # The connection dropped after the request left: Braze may have applied it.
                raise TransportFailure(
                    f"connection lost: {redact(str(exc) or type(exc).__name__)[:300]}",
                    maybe_sent=True,
                ) from exc
            raise
        self._release(connection)  # a `Connection: close` answer left it closed: reopened next
        return _reply(response.status, raw, response.headers)

    def close(self) -> None:
        """Release pooled connections; those in use are closed when their request ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        """An open connection: an idle one the server has not closed, else a new one."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            sock = connection.sock
            # An idle socket that reads as ready was closed by the server (or holds junk).
            if sock is not None and not wait_for_read(sock, timeout=0.0):
                return connection
            connection.close()
        if self._context is not None:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout_s, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout_s
            )
        try:
            connection.connect()
        except ssl.SSLError as exc:
            connection.close()
            raise _tls_error(self.base_url, exc) from exc
        except TimeoutError as exc:
            connection.close()
            raise TransportFailure("connect timeout", maybe_sent=False) from exc
        except OSError as exc:
            connection.close()
            raise TransportFailure(
                f"cannot connect: {redact(str(exc))}", maybe_sent=False
            ) from exc
        return connection

    def _release(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and connection.sock is not None:
                self._idle.append(connection)
                return
        connection.close()


def _tls_error(base_url: str, exc: ssl.SSLError) -> BrazeApiError:
    return BrazeApiError(
        f"TLS verification failed for {base_url}: {redact(str(exc))}",
        hint="Check BRAZE_REST_ENDPOINT; dbt-braze never turns verification off.",
    )


def _reply(status: int, raw: bytes, headers: Any) -> Reply:
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        # orjson is stricter (NaN, ints over 64 bits, bad UTF-8): the stdlib has the last word.
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    payload = parsed if isinstance(parsed, dict) else None
    return Reply(status, payload, text, parse_rate_headers(headers, time.time()))
