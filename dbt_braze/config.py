"""The `meta.braze` block of a model, parsed into typed objects and checked.

Parsing happens in two steps: `parse_model` checks the block's shape (keys, types, one
identifier), `check_columns` checks it against the columns the warehouse really has. Both
return every problem they find, each naming the model, the key and the fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from typing import Any

from dbt_braze.artifacts import ModelNode

IDENTIFIER_KEYS = ("external_id", "user_alias", "braze_id", "email", "phone")
DELETABLE_IDENTIFIERS = ("external_id", "user_alias", "braze_id")
ON_DELETE = ("ignore", "unset", "delete")
COMMON_KEYS = {"type", "update_existing_only", *IDENTIFIER_KEYS}
TYPE_KEYS = {
    "users": {"attributes", "on_delete", "merge_objects"},
    "events": {"event_id", "name", "name_column", "time", "properties", "backfill", "app_id"},
    "purchases": {
        "purchase_id",
        "product_id",
        "price",
        "currency",
        "currency_column",
        "quantity",
        "time",
        "properties",
        "backfill",
        "app_id",
    },
}
UNSYNCABLE_MATERIALIZATIONS = {"ephemeral"}


@dataclass(frozen=True)
class Identifier:
    """How a row names its Braze user: `kind` is one of IDENTIFIER_KEYS."""

    kind: str
    column: str
    alias_label: str | None = None  # user_alias: a constant label ...
    alias_label_column: str | None = None  # ... or a column holding it

    @property
    def columns(self) -> list[str]:
        return [self.column] + ([self.alias_label_column] if self.alias_label_column else [])


@dataclass(frozen=True)
class Backfill:
    mode: str  # "all" | "none" | "since"
    since: dt.date | None = None


@dataclass
class SyncConfig:
    """A model's validated `meta.braze` block."""

    model: ModelNode
    type: str
    identifier: Identifier
    update_existing_only: bool | None = None
    # users
    attributes: dict[str, str] | None = None  # column -> Braze attribute; None = all others
    on_delete: str = "ignore"
    merge_objects: bool = False
    # events and purchases
    key_column: str = ""  # event_id or purchase_id
    time_column: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    backfill: Backfill = field(default_factory=lambda: Backfill("all"))
    app_id: str | None = None
    event_name: str | None = None
    event_name_column: str | None = None
    product_column: str = ""
    price_column: str = ""
    currency: str | None = None
    currency_column: str | None = None
    quantity_column: str | None = None

    @property
    def name(self) -> str:
        return self.model.name

    def used_columns(self) -> list[str]:
        """Every column the mapping names, identifier first."""
        cols = list(self.identifier.columns)
        if self.type == "users":
            cols += list((self.attributes or {}).keys())
        else:
            cols += [self.key_column, self.time_column, *self.properties.keys()]
            cols += [c for c in (self.event_name_column,) if c]
            if self.type == "purchases":
                cols += [self.product_column, self.price_column]
                cols += [c for c in (self.currency_column, self.quantity_column) if c]
        return list(dict.fromkeys(cols))

    def resolve_attributes(self, columns: list[str]) -> dict[str, str]:
        """The column -> attribute map; omitted means every column but the identifier's."""
        if self.attributes is not None:
            return dict(self.attributes)
        skip = {c.lower() for c in self.identifier.columns}
        return {c: c for c in columns if c.lower() not in skip}


class _Problems:
    def __init__(self, model: ModelNode) -> None:
        self.model = model
        self.items: list[str] = []

    def add(self, key: str, problem: str, fix: str) -> None:
        where = self.model.where_defined
        self.items.append(f"model {self.model.name} ({where}): meta.braze.{key}: {problem}. {fix}")


def _column_name(value: Any, key: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    problems.add(key, f"expected a column name, got {value!r}", "Name a column of the model.")
    return None


def _mapping(value: Any, key: str, problems: _Problems) -> dict[str, str] | None:
    """A list means same names; a dict maps column -> Braze name."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {v: v for v in value}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    problems.add(
        key,
        f"expected a list of columns or a mapping of column to name, got {value!r}",
        "Write `[col_a, col_b]` or `{col_a: braze_name}`.",
    )
    return None


def _identifier(block: dict[str, Any], problems: _Problems) -> Identifier | None:
    given = [k for k in IDENTIFIER_KEYS if block.get(k) is not None]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        problems.add(
            "external_id",
            f"exactly one identifier is needed, found {found}",
            f"Keep one of {', '.join(IDENTIFIER_KEYS)}.",
        )
        return None
    kind = given[0]
    value = block[kind]
    if kind != "user_alias":
        column = _column_name(value, kind, problems)
        return Identifier(kind, column) if column else None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        problems.add(
            "user_alias",
            f"expected {{name: <column>, label: <constant>}}, got {value!r}",
            "Give the alias name column and a label (or label_column).",
        )
        return None
    label, label_column = value.get("label"), value.get("label_column")
    unknown = set(value) - {"name", "label", "label_column"}
    wrong_type = not isinstance(label if label is not None else label_column, str)
    if unknown or (label is None) == (label_column is None) or wrong_type:
        problems.add(
            "user_alias",
            "needs `name` and exactly one of `label` or `label_column`",
            "Example: `user_alias: {name: anonymous_id, label: web}`.",
        )
        return None
    return Identifier("user_alias", value["name"], label, label_column)


def _backfill(value: Any, problems: _Problems) -> Backfill:
    if value in (None, "all"):
        return Backfill("all")
    if value == "none":
        return Backfill("none")
    if isinstance(value, dict) and set(value) == {"since"}:
        since = value["since"]
        if isinstance(since, dt.datetime):
            return Backfill("since", since.date())
        if isinstance(since, dt.date):
            return Backfill("since", since)
        try:
            return Backfill("since", dt.date.fromisoformat(str(since)))
        except ValueError:
            pass
    problems.add(
        "backfill",
        f"expected all, none or {{since: YYYY-MM-DD}}, got {value!r}",
        "Write `backfill: all`, `backfill: none` or `backfill: {since: 2025-01-01}`.",
    )
    return Backfill("all")


def parse_model(model: ModelNode) -> tuple[SyncConfig | None, list[str]]:
    """Check a model's `meta.braze` block's shape; return the config or every problem."""
    problems = _Problems(model)
    block = model.meta.get("braze")
    if not isinstance(block, dict):
        problems.add("", f"expected a mapping, got {block!r}", "See SPEC section 2 for the keys.")
        return None, problems.items
    kind = block.get("type")
    if not isinstance(kind, str) or kind not in TYPE_KEYS:
        problems.add("type", f"expected users, events or purchases, got {kind!r}", "Set `type`.")
        return None, problems.items
    allowed = COMMON_KEYS | TYPE_KEYS[kind]
    for key in sorted(set(block) - allowed, key=str):
        close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
        fix = f"Did you mean `{close[0]}`?" if close else f"Allowed: {', '.join(sorted(allowed))}."
        article = "an" if kind == "events" else "a"
        problems.add(str(key), f"unknown key for {article} {kind} model", fix)
    if model.materialized in UNSYNCABLE_MATERIALIZATIONS or not model.relation_name:
        problems.add(
            "type",
            f"a {model.materialized} model has no relation in the warehouse to read",
            "Materialize it as a table, view or incremental model.",
        )
    identifier = _identifier(block, problems)
    ueo = block.get("update_existing_only")
    if ueo is not None and not isinstance(ueo, bool):
        problems.add(
            "update_existing_only",
            f"expected true or false, got {ueo!r}",
            "Write `update_existing_only: true` (or false).",
        )
    if identifier is None:
        return None, problems.items
    config = SyncConfig(model=model, type=kind, identifier=identifier, update_existing_only=ueo)
    if kind == "users":
        _parse_users(block, config, problems)
    else:
        _parse_activity(block, config, problems)
    return (None if problems.items else config), problems.items


def _parse_users(block: dict[str, Any], config: SyncConfig, problems: _Problems) -> None:
    if "attributes" in block:
        config.attributes = _mapping(block["attributes"], "attributes", problems)
    on_delete = block.get("on_delete", "ignore")
    if on_delete not in ON_DELETE:
        problems.add(
            "on_delete",
            f"expected one of {', '.join(ON_DELETE)}, got {on_delete!r}",
            "Write `on_delete: ignore`, `unset` or `delete`.",
        )
    elif on_delete == "delete" and config.identifier.kind not in DELETABLE_IDENTIFIERS:
        problems.add(
            "on_delete",
            f"Braze deletes users by {', '.join(DELETABLE_IDENTIFIERS)}, not by "
            f"{config.identifier.kind}",
            "Use `on_delete: unset` or `ignore`, or identify users by external_id.",
        )
    else:
        config.on_delete = on_delete
    merge = block.get("merge_objects", False)
    if not isinstance(merge, bool):
        problems.add(
            "merge_objects",
            f"expected true or false, got {merge!r}",
            "Write `merge_objects: true` (or false).",
        )
    config.merge_objects = merge is True


def _required(block: dict[str, Any], key: str, problems: _Problems, what: str) -> str:
    if block.get(key) is None:
        problems.add(key, f"missing; {what}", f"Add `{key}: <column>`.")
        return ""
    return _column_name(block[key], key, problems) or ""


def _parse_activity(block: dict[str, Any], config: SyncConfig, problems: _Problems) -> None:
    key = "event_id" if config.type == "events" else "purchase_id"
    config.key_column = _required(block, key, problems, "each row needs a unique key")
    config.time_column = _required(block, "time", problems, "Braze needs the time it happened")
    config.backfill = _backfill(block.get("backfill"), problems)
    if "properties" in block:
        config.properties = _mapping(block["properties"], "properties", problems) or {}
    if block.get("app_id") is not None:
        config.app_id = str(block["app_id"])
    if config.type == "events":
        name, name_column = block.get("name"), block.get("name_column")
        if (name is None) == (name_column is None):
            problems.add(
                "name", "needs exactly one of `name` or `name_column`", "Add `name: <event>`."
            )
        config.event_name = str(name) if name is not None else None
        if name_column is not None:
            config.event_name_column = _column_name(name_column, "name_column", problems)
        return
    config.product_column = _required(block, "product_id", problems, "Braze needs a product")
    config.price_column = _required(block, "price", problems, "Braze needs a price")
    currency, currency_column = block.get("currency"), block.get("currency_column")
    if (currency is None) == (currency_column is None):
        problems.add(
            "currency",
            "needs exactly one of `currency` or `currency_column`",
            "Add `currency: USD` or `currency_column: <column>`.",
        )
    elif currency is not None and not (
        isinstance(currency, str) and len(currency) == 3 and currency.isalpha()
    ):
        problems.add("currency", f"{currency!r} is not an ISO 4217 code", "Use e.g. USD.")
    config.currency = currency.upper() if isinstance(currency, str) else None
    if currency_column is not None:
        config.currency_column = _column_name(currency_column, "currency_column", problems)
    if block.get("quantity") is not None:
        config.quantity_column = _column_name(block["quantity"], "quantity", problems)


def check_columns(config: SyncConfig, columns: list[str]) -> list[str]:
    """Every mapped column that the relation lacks, with the closest real column."""
    problems = _Problems(config.model)
    actual = {c.lower(): c for c in columns}
    for column in config.used_columns():
        if column.lower() in actual:
            continue
        close = difflib.get_close_matches(column.lower(), list(actual), n=1, cutoff=0.6)
        fix = (
            f"Did you mean `{actual[close[0]]}`?"
            if close
            else f"Columns are: {', '.join(columns[:20])}."
        )
        problems.add(_key_of(config, column), f"column `{column}` not found in the model", fix)
    return problems.items


def _key_of(config: SyncConfig, column: str) -> str:
    if column in config.identifier.columns:
        return config.identifier.kind
    if config.attributes and column in config.attributes:
        return f"attributes.{column}"
    if column in config.properties:
        return f"properties.{column}"
    for key in ("key_column", "time_column", "product_column", "price_column"):
        if getattr(config, key) == column:
            return {"key_column": "event_id" if config.type == "events" else "purchase_id"}.get(
                key, key.removesuffix("_column").replace("product", "product_id")
            )
    return column
