"""The HTTP layer: one pooled session, TLS verified, a timeout on every call."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_errors
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.util import Timeout

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
        self.session = requests.Session()
        # Never consult the environment for proxies or CA overrides: verification stays on.
        self.session.trust_env = False
        self.session.verify = True
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=settings.concurrency, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._headers = {
            "Authorization": f"Bearer {settings.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "dbt-braze",
        }
        # The adapter's own connection pool, with its TLS context (verification required),
        # used directly: preparing a requests.Request costs more CPU than sending it.
        probe = requests.Request("POST", self.base_url + "/").prepare()
        pool = adapter.get_connection_with_tls_context(probe, verify=True)
        self._pool = cast(HTTPConnectionPool, pool)
        adapter.cert_verify(self._pool, self.base_url, True, None)
        self._prefix = urlsplit(self.base_url).path
        self._timeout = Timeout(connect=settings.timeout_s, read=settings.timeout_s)

    def post(self, path: str, body: bytes) -> Reply:
        """Send one body; raise TransportFailure when no HTTP answer came back."""
        try:
            response = self._pool.urlopen(
                "POST",
                self._prefix + path,
                body=body,
                headers=self._headers,
                retries=False,  # retrying is the client's decision, with its own backoff
                redirect=False,  # a 3xx is an answer, not an instruction
                assert_same_host=False,
                timeout=self._timeout,
                preload_content=True,
            )
        except urllib3_errors.SSLError as exc:
            raise BrazeApiError(
                f"TLS verification failed for {self.base_url}: {redact(str(exc))}",
                hint="Check BRAZE_REST_ENDPOINT; dbt-braze never turns verification off.",
            ) from exc
        except urllib3_errors.NewConnectionError as exc:
            raise TransportFailure(
                f"cannot connect: {redact(str(exc))}", maybe_sent=False
            ) from exc
        except urllib3_errors.ConnectTimeoutError as exc:
            raise TransportFailure("connect timeout", maybe_sent=False) from exc
        except (urllib3_errors.ReadTimeoutError, TimeoutError) as exc:
            raise TransportFailure(
                f"no answer within {self._timeout.read_timeout}s", maybe_sent=True
            ) from exc
        except (urllib3_errors.HTTPError, OSError) as exc:
            # The connection dropped after the request left: Braze may have applied it.
            raise TransportFailure(
                f"connection lost: {redact(str(exc))[:300]}", maybe_sent=True
            ) from exc
        return _reply(response.status, response.data, response.headers)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()


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
