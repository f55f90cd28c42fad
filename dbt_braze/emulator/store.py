"""The emulator's memory: user profiles, events, purchases and counters, behind one lock.

Profiles are keyed by a generated `braze_id`. They are found by `external_id`, by user alias
(`alias_label` + `alias_name`), by `braze_id`, or by the `email` / `phone` attribute, the way
Braze resolves them: email beats phone, and among several matches the most recently updated
profile with an `external_id` wins, else the most recently updated one.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dbt_braze.braze_rules import primary_identifiers
from dbt_braze.emulator.profiles import apply_attributes


@dataclass
class Profile:
    """One Braze user: its identifiers and attributes."""

    braze_id: str
    external_id: str | None = None
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (alias_name, alias_label)
    attributes: dict[str, Any] = field(default_factory=dict)
    updated: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Identifiers and every attribute, flat, as tests read them back."""
        out: dict[str, Any] = copy.deepcopy(self.attributes)
        out["braze_id"] = self.braze_id
        out["external_id"] = self.external_id
        out["user_aliases"] = [{"alias_name": n, "alias_label": lb} for n, lb in self.aliases]
        return out


class Store:
    """Profiles, events and purchases as Braze would hold them after the writes received."""

    def __init__(self, array_max_items: int = 500) -> None:
        self.lock = threading.RLock()
        self.array_max_items = array_max_items
        self.reset()

    def reset(self) -> None:
        """Forget every profile, event, purchase and counter."""
        with self.lock:
            self.profiles: dict[str, Profile] = {}
            self.by_external_id: dict[str, Profile] = {}
            self.by_alias: dict[tuple[str, str], Profile] = {}
            self.events: list[dict[str, Any]] = []
            self.purchases: list[dict[str, Any]] = []
            self.counters: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()
            self._ids = itertools.count(1)
            self._clock = itertools.count(1)

    # -- resolution ------------------------------------------------------------------------

    def find(self, obj: dict[str, Any]) -> Profile | None:
        """The profile an object (or a read-back query) names, without creating one."""
        if obj.get("external_id") is not None:
            return self.by_external_id.get(obj["external_id"])
        if obj.get("user_alias") is not None:
            alias = obj["user_alias"]
            return self.by_alias.get((alias["alias_name"], alias["alias_label"]))
        if obj.get("braze_id") is not None:
            return self.profiles.get(obj["braze_id"])
        for key in ("email", "phone"):
            if obj.get(key) is not None:
                return self._best_match(key, obj[key])
        return None

    def resolve(self, obj: dict[str, Any], kind: str) -> Profile | None:
        """The profile an object writes to, created when Braze would create it."""
        profile = self.find(obj)
        if profile is not None:
            return profile
        if "braze_id" in primary_identifiers(obj):
            return None  # a braze_id never creates a user
        if "user_alias" in primary_identifiers(obj):
            # Aliases are update-only unless an attributes object says false explicitly.
            if kind != "attributes" or obj.get("_update_existing_only") is not False:
                return None
        elif obj.get("_update_existing_only") is True:
            return None
        return self._create(obj)

    def _best_match(self, key: str, value: str) -> Profile | None:
        # Known limitation: email and phone lookups scan every profile (fine at test sizes).
        matches = [p for p in self.profiles.values() if p.attributes.get(key) == value]
        if not matches:
            return None
        return max(matches, key=lambda p: (p.external_id is not None, p.updated))

    def _create(self, obj: dict[str, Any]) -> Profile:
        profile = Profile(braze_id=f"emu{next(self._ids):08d}")
        if obj.get("external_id") is not None:
            profile.external_id = obj["external_id"]
            self.by_external_id[profile.external_id] = profile
        elif obj.get("user_alias") is not None:
            alias = (obj["user_alias"]["alias_name"], obj["user_alias"]["alias_label"])
            profile.aliases.append(alias)
            self.by_alias[alias] = profile
        elif obj.get("email") is not None:
            profile.attributes["email"] = obj["email"]
        elif obj.get("phone") is not None:
            profile.attributes["phone"] = obj["phone"]
        self.profiles[profile.braze_id] = profile
        self.counters["users_created"] += 1
        return profile

    # -- writes ----------------------------------------------------------------------------

    def apply_attributes(self, obj: dict[str, Any]) -> bool:
        """Apply one valid attributes object; False when no profile took it (update-only)."""
        profile = self.resolve(obj, "attributes")
        if profile is None:
            self.counters["skipped_update_only"] += 1
            return False
        apply_attributes(profile.attributes, obj, self.array_max_items)
        profile.updated = next(self._clock)
        return True

    def add_event(self, obj: dict[str, Any], array: str) -> bool:
        """Record one valid event or purchase; Braze never de-duplicates them."""
        profile = self.resolve(obj, array)
        if profile is None:
            self.counters["skipped_update_only"] += 1
            return False
        record = copy.deepcopy(obj)
        record["braze_id"] = profile.braze_id
        record["external_id"] = profile.external_id
        (self.events if array == "events" else self.purchases).append(record)
        profile.updated = next(self._clock)
        return True

    def delete(self, profile: Profile) -> None:
        """Remove a profile; its events and purchases stay, as Braze keeps the aggregates."""
        self.profiles.pop(profile.braze_id, None)
        if profile.external_id is not None:
            self.by_external_id.pop(profile.external_id, None)
        for alias in profile.aliases:
            self.by_alias.pop(alias, None)
        self.counters["users_deleted"] += 1

    # -- read-back -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters, status counts and sizes, as plain JSON-able values."""
        with self.lock:
            out: dict[str, Any] = {
                key: self.counters.get(key, 0)
                for key in (
                    "requests",
                    "objects",
                    "data_points",
                    "rejections",
                    "fatal_errors",
                    "rate_limited",
                    "faults_injected",
                    "drops_before",
                    "drops_after",
                    "users_created",
                    "users_deleted",
                    "skipped_update_only",
                )
            }
            out.update(
                statuses=dict(self.statuses),
                users=len(self.profiles),
                events=len(self.events),
                purchases=len(self.purchases),
            )
            return out
