"""The HTTP layer: one pooled session, TLS verified, a timeout on every call."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

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
        self.timeout_s = settings.timeout_s
        self.session = requests.Session()
        # Never consult the environment for proxies or CA overrides: verification stays on.
        self.session.trust_env = False
        self.session.verify = True
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=settings.concurrency, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {settings.api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "dbt-braze",
            }
        )
        self._adapter = adapter
        # Preparing a request (URL parsing, header merging) costs more CPU than sending it;
        # each call copies a prepared template and swaps in the body.
        self._templates: dict[str, requests.PreparedRequest] = {}

    def _prepared(self, path: str, body: bytes) -> requests.PreparedRequest:
        template = self._templates.get(path)
        if template is None:
            request = requests.Request("POST", self.base_url + path, data=b"-")
            template = self._templates[path] = self.session.prepare_request(request)
        prepared = template.copy()
        prepared.body = body
        prepared.headers["Content-Length"] = str(len(body))
        return prepared

    def post(self, path: str, body: bytes) -> Reply:
        """Send one body; raise TransportFailure when no HTTP answer came back."""
        try:
            # The adapter directly: no redirects (a 3xx is an answer), no cookie jar.
            response = self._adapter.send(
                self._prepared(path, body), timeout=self.timeout_s, verify=True
            )
            raw = response.content
        except requests.exceptions.SSLError as exc:
            raise BrazeApiError(
                f"TLS verification failed for {self.base_url}: {redact(str(exc))}",
                hint="Check BRAZE_REST_ENDPOINT; dbt-braze never turns verification off.",
            ) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransportFailure(f"connect timeout: {exc}", maybe_sent=False) from exc
        except requests.exceptions.Timeout as exc:
            raise TransportFailure(f"timeout after {self.timeout_s}s", maybe_sent=True) from exc
        except requests.exceptions.ConnectionError as exc:
            refused = "NewConnectionError" in repr(exc) or "Connection refused" in str(exc)
            raise TransportFailure(
                f"connection error: {redact(str(exc))[:300]}", maybe_sent=not refused
            ) from exc
        except requests.exceptions.RequestException as exc:
            # ChunkedEncodingError and the like: the answer broke off half way.
            raise TransportFailure(f"broken answer: {exc}", maybe_sent=True) from exc
        return _reply(response.status_code, raw, response.headers)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()


def _reply(status: int, raw: bytes, headers: Any) -> Reply:
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    payload = parsed if isinstance(parsed, dict) else None
    return Reply(status, payload, text, parse_rate_headers(headers, time.time()))
