"""The emulator's request handling, apart from HTTP: auth, limits, faults, routes, control.

`BrazeApp.braze` answers Braze's endpoints; `BrazeApp.control` answers `/_emulator/...`.
Both return a `Reply`, which the HTTP layer in `server.py` writes (or drops) verbatim.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from dbt_braze.emulator.delete import handle_delete
from dbt_braze.emulator.faults import FaultInjector
from dbt_braze.emulator.ratelimit import RateLimiter
from dbt_braze.emulator.settings import EmulatorSettings
from dbt_braze.emulator.store import Store
from dbt_braze.emulator.track import handle_track

# Known limitation: /users/alias/new, /users/identify and /subscription/status/set answer 404.
# path -> (permission, handler kind)
ROUTES = {
    "/users/track": ("users.track", "track"),
    "/users/track/bulk": ("users.track.bulk", "bulk"),
    "/users/delete": ("users.delete", "delete"),
}
CONTROL_PREFIX = "/_emulator/"
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Reply:
    """What to send back; `drop_after` means close the connection without sending it."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop_before: bool = False
    drop_after: bool = False
    close: bool = False


class BrazeApp:
    """One emulated Braze workspace: settings, store, limiter and fault injector."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.limits = settings.limits()
        self.store = Store(array_max_items=settings.array_max_items)
        self.faults = FaultInjector(settings.faults(), seed=settings.seed)
        mode = settings.rate_limit_mode
        self.limiters = {
            "track": RateLimiter(settings.rate_limit, settings.rate_window_s, mode),
            "bulk": RateLimiter(settings.rate_limit, settings.rate_window_s, mode),
            "delete": RateLimiter(settings.delete_rate_limit, settings.delete_rate_window_s, mode),
        }

    def braze(
        self,
        method: str,
        path: str,
        authorization: str | None,
        content_length: int | None,
        read_body: Callable[[int], bytes],
    ) -> Reply:
        """Answer one request to a Braze endpoint as Braze would, faults included."""
        route = ROUTES.get(path.split("?", 1)[0].rstrip("/"))
        if route is None:
            return Reply(404, {"message": "Not Found"})
        if method != "POST":
            return Reply(405, {"message": "Method Not Allowed"})
        permission, kind = route
        limiter = self.limiters[kind]
        with self.store.lock:
            self.store.counters["requests"] += 1

        plan = self.faults.plan()
        if plan.latency_s:
            time.sleep(plan.latency_s)
        if plan.drop_before:
            self._count("drops_before")
            return Reply(0, None, drop_before=True)
        if plan.status == 429:
            self._count("faults_injected")
            return self._throttled(limiter)
        if plan.status is not None:
            self._count("faults_injected")
            body = {"message": _REASONS.get(plan.status, "Server Error")}
            return Reply(plan.status, body, limiter.peek())

        if not self._authorized(authorization):
            return Reply(401, {"message": "Unauthorized"}, limiter.peek())
        if permission not in self.settings.permissions:
            return Reply(403, {"message": "Access Denied"}, limiter.peek())
        decision = limiter.take()
        if not decision.allowed:
            self._count("rate_limited")
            return Reply(429, {"message": "Rate Limited"}, decision.headers)
        headers = decision.headers

        max_bytes = (
            self.limits.bulk_max_body_bytes if kind == "bulk" else self.limits.max_body_bytes
        )
        # Known limitation: chunked request bodies are not read; such requests get 411.
        if content_length is None:
            return Reply(411, {"message": "Length Required"}, headers, close=True)
        if content_length > max_bytes:
            # Bulk answers an oversized body with 400, the other endpoints with 413.
            status = 400 if kind == "bulk" else 413
            return Reply(status, {"message": "Request Entity Too Large"}, headers, close=True)
        try:
            body = json.loads(read_body(content_length))
        except (ValueError, UnicodeDecodeError):
            self._count("fatal_errors")
            return Reply(400, {"message": "Invalid JSON in request body."}, headers)

        if kind == "delete":
            status, response = handle_delete(
                body,
                self.store,
                per_request=self.limits.delete_per_request,
                one_type=self.settings.delete_one_identifier_type,
            )
        else:
            status, response = handle_track(body, self.limits, self.store, bulk=kind == "bulk")
        if status >= 400:
            self._count("fatal_errors")
        if plan.drop_after:
            self._count("drops_after")
            return Reply(status, response, headers, drop_after=True)
        return Reply(status, response, headers)

    def control(self, method: str, path: str, body: bytes) -> Reply:
        """Answer `/_emulator/...`: read-back of state, reset and run-time faults; no auth."""
        route, _, query = path[len(CONTROL_PREFIX) :].partition("?")
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        store = self.store
        if method == "GET" and route.startswith("users/"):
            user = self.user(unquote(route[len("users/") :]))
            return Reply(200, user) if user else Reply(404, {"message": "user not found"})
        if method == "GET" and route == "users":
            if params:
                user = self.find_user(**params)
                return Reply(200, [user] if user else [])
            return Reply(200, self.users())
        if method == "GET" and route in ("events", "purchases"):
            records = self.events() if route == "events" else self.purchases()
            if "external_id" in params:
                records = [r for r in records if r.get("external_id") == params["external_id"]]
            return Reply(200, records)
        if method == "GET" and route == "stats":
            return Reply(200, store.stats())
        if method == "POST" and route == "reset":
            self.reset()
            return Reply(200, {"message": "reset"})
        if route == "faults" and method in ("GET", "POST"):
            if method == "GET":
                return Reply(200, asdict(self.faults.faults))
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object of fault settings")
                return Reply(200, asdict(self.faults.update(**changes)))
            except (ValueError, TypeError) as exc:
                return Reply(400, {"message": str(exc)})
        return Reply(404, {"message": "Not Found"})

    # -- read-back used by both the Python API and the control endpoints -------------------

    def user(self, external_id: str) -> dict[str, Any] | None:
        """The profile with this external_id, flat, or None."""
        with self.store.lock:
            profile = self.store.by_external_id.get(external_id)
            return profile.to_dict() if profile else None

    def find_user(
        self,
        *,
        alias_name: str | None = None,
        alias_label: str | None = None,
        braze_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The profile Braze would resolve for one identifier, or None."""
        lookup: dict[str, Any] = {}
        if external_id is not None:
            lookup["external_id"] = external_id
        elif alias_name is not None and alias_label is not None:
            lookup["user_alias"] = {"alias_name": alias_name, "alias_label": alias_label}
        elif braze_id is not None:
            lookup["braze_id"] = braze_id
        elif email is not None:
            lookup["email"] = email
        elif phone is not None:
            lookup["phone"] = phone
        with self.store.lock:
            profile = self.store.find(lookup) if lookup else None
            return profile.to_dict() if profile else None

    def users(self) -> list[dict[str, Any]]:
        """Every profile, in creation order."""
        with self.store.lock:
            return [p.to_dict() for p in self.store.profiles.values()]

    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order, each with the `braze_id` it was recorded on."""
        with self.store.lock:
            return [dict(e) for e in self.store.events]

    def purchases(self) -> list[dict[str, Any]]:
        """Every purchase received, in order."""
        with self.store.lock:
            return [dict(p) for p in self.store.purchases]

    def reset(self) -> None:
        """Empty the store and the rate-limit windows; faults stay as set."""
        self.store.reset()
        for limiter in self.limiters.values():
            limiter.reset()

    def note_status(self, status: int) -> None:
        """Count one answered status (the HTTP layer calls this)."""
        with self.store.lock:
            self.store.statuses[str(status)] += 1

    def _authorized(self, authorization: str | None) -> bool:
        # A quoted key, another scheme or a missing header all get 401, as with Braze.
        return authorization == f"Bearer {self.settings.api_key}"

    def _throttled(self, limiter: RateLimiter) -> Reply:
        self._count("rate_limited")
        if self.settings.rate_limit_mode == "new":
            return Reply(429, {"message": "Rate Limited"}, {"x-ratelimit-retry-after": "1"})
        headers = limiter.peek()
        headers["x-ratelimit-remaining"] = "0"
        return Reply(429, {"message": "Rate Limited"}, headers)

    def _count(self, name: str) -> None:
        with self.store.lock:
            self.store.counters[name] += 1
