"""Braze's payload rules and limits, shared by the client, the sync and the emulator.

Pure functions, no I/O; cheap enough to call on every object. Messages read like Braze's own.

Public names:
- `Limits` (and `DEFAULT_LIMITS`): every count and size limit; Braze's differ by contract.
- `PRIMARY_IDENTIFIERS`, `SECONDARY_IDENTIFIERS`, `CONTROL_FLAGS`, `TRACK_ARRAYS`.
- Braze's messages: `MAX_INPUT_LENGTH_EXCEEDED`, `NO_VALID_DATA`, `IDENTIFIER_REQUIRED`,
  `ONE_PRIMARY_IDENTIFIER`, `BAD_EMAIL`.
- `count_objects(body)`, `check_object_count(body, limits)`: the objects-per-request cap.
- `check_identifiers(obj)`, `check_attribute_name(name)`, `check_property_name(name)`:
  one message or None.
- `check_attributes_object(obj)`, `check_event_object(obj)`, `check_purchase_object(obj)`:
  every problem of one `/users/track` object (an empty list when Braze would take it).
- `is_iso8601(s)`, `is_braze_time(s)`, `is_currency_code(s)`, `is_email(s)`, `is_phone(s)`.
- `attributes_data_points(obj)`, `event_data_points(obj)`, `purchase_data_points(obj)`:
  the data points Braze bills for one object.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Braze's limits; the defaults are the current documented ones."""

    objects_per_request: int = 75
    combined_object_limit: bool = True  # False = legacy: the cap applies to each array
    max_body_bytes: int = 4 * 1024 * 1024
    bulk_objects_per_request: int = 1000
    bulk_max_body_bytes: int = 2 * 1024 * 1024
    bulk_objects_per_user: int = 100
    delete_per_request: int = 50
    string_max_chars: int = 255
    external_id_max_bytes: int = 987
    quantity_max: int = 100
    array_max_items: int = 500
    nested_max_bytes: int = 100 * 1024
    properties_max_count: int = 256


DEFAULT_LIMITS = Limits()

PRIMARY_IDENTIFIERS = ("external_id", "user_alias", "braze_id")
SECONDARY_IDENTIFIERS = ("email", "phone")
CONTROL_FLAGS = frozenset({"_update_existing_only", "_merge_objects", "push_token_import"})
TRACK_ARRAYS = ("attributes", "events", "purchases")

MAX_INPUT_LENGTH_EXCEEDED = "Max Input Length Exceeded"
NO_VALID_DATA = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
IDENTIFIER_REQUIRED = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
ONE_PRIMARY_IDENTIFIER = "only one of 'external_id', 'braze_id' or 'user_alias' may be provided"
BAD_EMAIL = "The value provided for the 'email' field is not a valid email."

# Known limitation: Braze does not publish its blocklist of dummy external IDs; these are guesses.
BLOCKLISTED_EXTERNAL_IDS = frozenset({"null", "undefined", "none", "nil", "n/a"})

# ISO 4217 alphabetic codes in current use.
CURRENCY_CODES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG
    XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL""".split()  # noqa: SIM905
)

GENDERS = frozenset({"M", "F", "O", "N", "P"})
SUBSCRIPTION_STATES = frozenset({"opted_in", "subscribed", "unsubscribed"})
GROUP_STATES = frozenset({"subscribed", "unsubscribed"})
TIME_FIELDS = ("date_of_first_session", "date_of_last_session", "marked_email_as_spam_at")
NOT_BILLED = frozenset({"email_subscribe", "push_subscribe", "subscription_groups"})
RESERVED_PROPERTY_NAMES = frozenset({"time", "event_name"})
_SCALARS = frozenset({str, int, float, bool, type(None)})

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\Z"
)
_BRAZE_EXTRA_TIMES = (
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}:\d{3}(?:Z|[+-]\d{2}:?\d{2})\Z"),
    re.compile(r"\d{2}/\d{2}/\d{4}\Z"),
    re.compile(r"[A-Z][a-z]{2} \d{2} \d{2} \d{2}:\d{2}:\d{2}\.\S+ \d{4}\Z"),
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}\Z")


def is_iso8601(value: object) -> bool:
    """True for an ISO 8601 date or date-time string with a valid calendar date and clock."""
    if not isinstance(value, str) or not _ISO.match(value):
        return False
    year, month, day = (int(part) for part in _DATE.match(value).groups())  # type: ignore[union-attr]
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return False
    if len(value) > 10:
        hour, minute = int(value[11:13]), int(value[14:16])
        second = int(value[17:19]) if len(value) > 16 and value[16] == ":" else 0
        return hour <= 23 and minute <= 59 and second <= 60
    return True


def is_braze_time(value: object) -> bool:
    """True for any time format Braze accepts: ISO 8601 plus its few documented others."""
    if is_iso8601(value):
        return True
    return isinstance(value, str) and any(p.match(value) for p in _BRAZE_EXTRA_TIMES)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_currency_code(value: object) -> bool:
    """True for an ISO 4217 alphabetic code in upper case, e.g. `USD`."""
    return isinstance(value, str) and value in CURRENCY_CODES


def is_email(value: object) -> bool:
    """True for a string shaped like an email address (Braze checks no more than that)."""
    return isinstance(value, str) and len(value) <= 255 and bool(_EMAIL.match(value))


def is_phone(value: object) -> bool:
    """True for a plausible phone number; Braze recommends E.164 (`+14155550100`)."""
    return isinstance(value, str) and bool(_PHONE.match(value))


def count_objects(body: dict[str, Any]) -> int:
    """Objects in a `/users/track` body, across the three arrays."""
    return sum(len(v) for k in TRACK_ARRAYS if isinstance(v := body.get(k), list))


def check_object_count(body: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Braze's fatal message when a body holds more objects than one request may carry."""
    cap = limits.objects_per_request
    if limits.combined_object_limit:
        too_many = count_objects(body) > cap
    else:
        too_many = any(isinstance(v := body.get(k), list) and len(v) > cap for k in TRACK_ARRAYS)
    return MAX_INPUT_LENGTH_EXCEEDED if too_many else None


def primary_identifiers(obj: dict[str, Any]) -> list[str]:
    """The primary identifier keys an object carries (a valid object carries at most one)."""
    return [k for k in PRIMARY_IDENTIFIERS if obj.get(k) is not None]


def check_identifiers(obj: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why Braze would not know whose object this is, or None when it would."""
    primaries = primary_identifiers(obj)
    if len(primaries) > 1:
        return ONE_PRIMARY_IDENTIFIER
    if not primaries:
        if obj.get("email") is not None:
            return None if is_email(obj["email"]) else BAD_EMAIL
        if obj.get("phone") is not None:
            return None if is_phone(obj["phone"]) else "'phone' is not a valid phone number"
        return IDENTIFIER_REQUIRED
    key = primaries[0]
    value = obj[key]
    if key == "user_alias":
        if not (
            isinstance(value, dict)
            and isinstance(value.get("alias_name"), str)
            and isinstance(value.get("alias_label"), str)
            and value["alias_name"]
            and value["alias_label"]
        ):
            return "'user_alias' must have a string 'alias_name' and 'alias_label'"
        return None
    if not isinstance(value, str) or not value:
        return f"'{key}' must be a non-empty string"
    if key == "external_id":
        if len(value.encode()) > limits.external_id_max_bytes:
            return "EXTERNAL_USER_ID_TOO_LARGE: 'external_id' is longer than 987 bytes"
        if value.strip().lower() in BLOCKLISTED_EXTERNAL_IDS:
            return "provided external_id is blacklisted and disallowed"
    return None


def check_attribute_name(name: object, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why a custom attribute name would be refused, or None."""
    if not isinstance(name, str) or not name:
        return "attribute names must be non-empty strings"
    if len(name) > limits.string_max_chars:
        return f"attribute name is longer than {limits.string_max_chars} characters"
    if name.startswith("$"):
        return f"attribute name '{name[:40]}' must not start with '$'"
    return None


def check_property_name(name: object, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why an event or purchase property name would be refused, or None."""
    if not isinstance(name, str) or not name:
        return "property names must be non-empty strings"
    if len(name) > limits.string_max_chars:
        return f"property name is longer than {limits.string_max_chars} characters"
    if name.startswith("$"):
        return f"property name '{name[:40]}' must not start with '$'"
    if name in RESERVED_PROPERTY_NAMES:
        return f"property name '{name}' is reserved"
    return None


def check_attributes_object(obj: object, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every reason Braze would reject this attributes object; [] when it would take it."""
    if not isinstance(obj, dict):
        return ["attributes objects must be JSON objects"]
    problems = _check_common(obj, limits)
    skip_secondary = not primary_identifiers(obj)
    merge = obj.get("_merge_objects") is True
    for name, value in obj.items():
        if name in PRIMARY_IDENTIFIERS or name in CONTROL_FLAGS:
            continue
        if skip_secondary and name in SECONDARY_IDENTIFIERS:
            continue
        if name not in _STANDARD_CHECKS and type(value) in _SCALARS:
            # The common case, kept cheap: a custom attribute with a plain value.
            problem = check_attribute_name(name, limits)
            if problem is None and type(value) is str and len(value) > limits.string_max_chars:
                problem = f"'{name}' is longer than {limits.string_max_chars} characters"
            elif problem is None and type(value) is float and not math.isfinite(value):
                problem = f"'{name}' must be a finite number"
            if problem:
                problems.append(problem)
            continue
        problem = check_attribute_name(name, limits) or _check_standard(name, value, limits)
        if problem is None and name not in _STANDARD_CHECKS:
            problem = _check_custom_value(name, value, merge, limits)
        if problem:
            problems.append(problem)
    return problems


def check_event_object(obj: object, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every reason Braze would reject this event object; [] when it would take it."""
    if not isinstance(obj, dict):
        return ["event objects must be JSON objects"]
    problems = _check_common(obj, limits)
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        problems.append("'name' is required")
    elif len(name) > limits.string_max_chars:
        problems.append(f"'name' is longer than {limits.string_max_chars} characters")
    problems += _check_time_and_properties(obj, limits)
    return problems


def check_purchase_object(obj: object, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every reason Braze would reject this purchase object; [] when it would take it."""
    if not isinstance(obj, dict):
        return ["purchase objects must be JSON objects"]
    problems = _check_common(obj, limits)
    product_id = obj.get("product_id")
    if not isinstance(product_id, str) or not product_id:
        problems.append("'product_id' is required")
    elif len(product_id) > limits.string_max_chars:
        problems.append(f"'product_id' is longer than {limits.string_max_chars} characters")
    if obj.get("currency") is None:
        problems.append("'currency' is required")
    elif not is_currency_code(obj["currency"]):
        problems.append("'currency' must be an ISO 4217 alphabetic currency code")
    if not _is_number(obj.get("price")):
        problems.append("'price' is required and must be a number")
    quantity = obj.get("quantity")
    if quantity is not None and not (
        isinstance(quantity, int)
        and not isinstance(quantity, bool)
        and 1 <= quantity <= limits.quantity_max
    ):
        problems.append(f"'quantity' must be an integer from 1 to {limits.quantity_max}")
    problems += _check_time_and_properties(obj, limits)
    return problems


def attributes_data_points(obj: dict[str, Any]) -> int:
    """Data points Braze bills for one attributes object (each attribute written, §8)."""
    skip_secondary = not primary_identifiers(obj)
    points = 0
    for name, value in obj.items():
        if name in PRIMARY_IDENTIFIERS or name in CONTROL_FLAGS or name in NOT_BILLED:
            continue
        if skip_secondary and name in SECONDARY_IDENTIFIERS:
            continue
        points += _value_data_points(value)
    return points


def event_data_points(obj: dict[str, Any]) -> int:
    """One data point per event; event properties are free by default."""
    return 1


def purchase_data_points(obj: dict[str, Any]) -> int:
    """One data point per purchase plus one per property (purchase properties are billed)."""
    properties = obj.get("properties")
    return 1 + (len(properties) if isinstance(properties, dict) else 0)


def _value_data_points(value: object) -> int:
    # A whole array or a scalar is one write; array `add`/`remove` and nested keys count each.
    if isinstance(value, dict):
        if _is_array_op(value):
            return max(1, sum(len(v) for v in value.values()))
        if _is_object_array_op(value):
            return max(1, sum(len(v) for v in value.values()))
        if _is_increment(value):
            return 1
        return max(1, _leaf_count(value))
    return 1


def _leaf_count(value: dict[str, Any]) -> int:
    return sum(
        _leaf_count(v) if isinstance(v, dict) and "$time" not in v else 1 for v in value.values()
    )


def _check_common(obj: dict[str, Any], limits: Limits) -> list[str]:
    problems = []
    identifier_problem = check_identifiers(obj, limits)
    if identifier_problem:
        problems.append(identifier_problem)
    for flag in ("_update_existing_only", "_merge_objects"):
        if flag in obj and not isinstance(obj[flag], bool):
            problems.append(f"'{flag}' must be a boolean")
    return problems


def _check_time_and_properties(obj: dict[str, Any], limits: Limits) -> list[str]:
    problems = []
    if obj.get("time") is None:
        problems.append("'time' is required")
    elif not is_braze_time(obj["time"]):
        problems.append("'time' must be an ISO 8601 time")
    if obj.get("app_id") is not None and not isinstance(obj["app_id"], str):
        problems.append("'app_id' must be a string")
    properties = obj.get("properties")
    if properties is None:
        return problems
    if not isinstance(properties, dict):
        return [*problems, "'properties' must be an object"]
    for name, value in properties.items():
        problem = check_property_name(name, limits) or _check_property_value(name, value, limits)
        if problem:
            problems.append(problem)
    nested = any(isinstance(v, (dict, list)) for v in properties.values())
    if nested and _json_size(properties) > limits.nested_max_bytes:
        problems.append(f"'properties' is larger than {limits.nested_max_bytes} bytes")
    return problems


def _check_property_value(name: str, value: object, limits: Limits) -> str | None:
    if isinstance(value, str) and len(value) > limits.string_max_chars:
        return f"property '{name}' is longer than {limits.string_max_chars} characters"
    if isinstance(value, float) and not math.isfinite(value):
        return f"property '{name}' must be a finite number"
    if isinstance(value, dict):
        return _check_nested(name, value, limits)
    return None


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (not isinstance(value, float) or math.isfinite(value))
    )


def _is_increment(value: dict[str, Any]) -> bool:
    return value.keys() == {"inc"}


def _is_array_op(value: dict[str, Any]) -> bool:
    return bool(value) and value.keys() <= {"add", "remove"}


def _is_object_array_op(value: dict[str, Any]) -> bool:
    return bool(value) and value.keys() <= {"$add", "$remove", "$update"}


def _json_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# Known limitation: over-long strings and arrays reject the object; Braze may instead
# accept the request and silently not apply the value (undocumented which).
def _check_custom_value(name: str, value: object, merge: bool, limits: Limits) -> str | None:
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"'{name}' must be a finite number"
    if isinstance(value, str):
        if len(value) > limits.string_max_chars:
            return f"'{name}' is longer than {limits.string_max_chars} characters"
        return None
    if isinstance(value, list):
        return _check_array(name, value, limits)
    if isinstance(value, dict):
        if _is_increment(value):
            return None if _is_number(value["inc"]) else f"'{name}' inc must be a number"
        if _is_array_op(value):
            for items in value.values():
                if not isinstance(items, list):
                    return f"'{name}' add and remove take arrays"
                problem = _check_array(name, items, limits)
                if problem:
                    return problem
            return None
        if _is_object_array_op(value):
            return _check_object_array_op(name, value, merge, limits)
        problem = _check_nested(name, value, limits)
        if problem is None and _json_size(value) > limits.nested_max_bytes:
            problem = f"'{name}' is larger than {limits.nested_max_bytes} bytes"
        return problem
    return f"'{name}' has a value Braze cannot store"


def _check_array(name: str, items: list[Any], limits: Limits) -> str | None:
    if items and all(isinstance(item, dict) for item in items):
        for item in items:
            problem = _check_nested(name, item, limits)
            if problem:
                return problem
    else:
        if len(items) > limits.array_max_items:
            return f"'{name}' has more than {limits.array_max_items} items"
        for item in items:
            if isinstance(item, (dict, list)) or item is None:
                return f"'{name}' arrays hold strings, numbers or booleans only"
            if isinstance(item, str) and len(item) > limits.string_max_chars:
                return f"'{name}' has an item longer than {limits.string_max_chars} characters"
    if _json_size(items) > limits.nested_max_bytes:
        return f"'{name}' is larger than {limits.nested_max_bytes} bytes"
    return None


def _check_object_array_op(
    name: str, value: dict[str, Any], merge: bool, limits: Limits
) -> str | None:
    for op, items in value.items():
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f"'{name}' {op} takes an array of objects"
        for item in items:
            if op == "$add":
                problem = _check_nested(name, item, limits)
                if problem:
                    return problem
                continue
            if "$identifier_key" not in item or "$identifier_value" not in item:
                return f"'{name}' {op} needs '$identifier_key' and '$identifier_value'"
            if op == "$update":
                if not merge:
                    return f"'{name}' $update needs '_merge_objects': true"
                if not isinstance(item.get("$new_object"), dict):
                    return f"'{name}' $update needs a '$new_object'"
                problem = _check_nested(name, item["$new_object"], limits)
                if problem:
                    return problem
    return None


def _check_nested(name: str, value: dict[str, Any], limits: Limits) -> str | None:
    for key, inner in value.items():
        bad_key = not key or len(key) > limits.string_max_chars or any(c in key for c in " .$")
        if bad_key and key != "$time":
            return f"'{name}' has a nested key Braze refuses (no spaces, '.' or '$')"
        if inner is None:
            return f"'{name}' must not contain null values"
        if isinstance(inner, str) and len(inner) > limits.string_max_chars:
            return f"'{name}' has a nested value longer than {limits.string_max_chars} characters"
        if isinstance(inner, dict):
            if inner.keys() == {"$time"}:
                if not is_braze_time(inner["$time"]):
                    return f"'{name}' has a '$time' that is not a valid time"
                continue
            problem = _check_nested(name, inner, limits)
            if problem:
                return problem
        if isinstance(inner, list):
            for item in inner:
                if item is None:
                    return f"'{name}' must not contain null values"
                if isinstance(item, dict):
                    problem = _check_nested(name, item, limits)
                    if problem:
                        return problem
    return None


def _check_standard(name: str, value: object, limits: Limits) -> str | None:
    check = _STANDARD_CHECKS.get(name)
    return check(value, limits) if check else None


def _string_field(field: str) -> Any:
    def check(value: object, limits: Limits) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return f"'{field}' must be a string"
        if len(value) > limits.string_max_chars:
            return f"'{field}' is longer than {limits.string_max_chars} characters"
        return None

    return check


def _enum_field(allowed: frozenset[str], message: str) -> Any:
    def check(value: object, limits: Limits) -> str | None:
        return None if value is None or value in allowed else message

    return check


def _time_field(field: str) -> Any:
    def check(value: object, limits: Limits) -> str | None:
        return None if value is None or is_braze_time(value) else f"'{field}' must be a time"

    return check


def _check_email(value: object, limits: Limits) -> str | None:
    return None if value is None or is_email(value) else BAD_EMAIL


def _check_dob(value: object, limits: Limits) -> str | None:
    ok = value is None or (isinstance(value, str) and len(value) == 10 and is_iso8601(value))
    return None if ok else "'dob' must be a date as YYYY-MM-DD"


def _check_location(value: object, limits: Limits) -> str | None:
    ok = value is None or (
        isinstance(value, dict)
        and _is_number(value.get("longitude"))
        and _is_number(value.get("latitude"))
    )
    return None if ok else "BAD_LOCATION_UPDATE"


def _check_subscription_groups(value: object, limits: Limits) -> str | None:
    if not isinstance(value, list):
        return "BAD_SUBSCRIPTION_GROUP_ARRAY"
    for group in value:
        if not isinstance(group, dict):
            return "BAD_SUBSCRIPTION_GROUP_HASH"
        if not isinstance(group.get("subscription_group_id"), str):
            return "BAD_SUBSCRIPTION_GROUP_ID"
        if group.get("subscription_state") not in GROUP_STATES:
            return "BAD_SUBSCRIPTION_GROUP_STATE"
    return None


def _never(message: str) -> Any:
    def check(value: object, limits: Limits) -> str | None:
        return message

    return check


_STANDARD_CHECKS: dict[str, Any] = {
    **{f: _string_field(f) for f in ("first_name", "last_name", "home_city", "country")},
    **{f: _string_field(f) for f in ("language", "phone", "time_zone")},
    **{f: _time_field(f) for f in TIME_FIELDS},
    "email": _check_email,
    "dob": _check_dob,
    "gender": _enum_field(GENDERS, "'gender' must be one of M, F, O, N, P or null"),
    "email_subscribe": _enum_field(SUBSCRIPTION_STATES, "BAD_EMAIL_SUBSCRIPTION_STATE"),
    "push_subscribe": _enum_field(SUBSCRIPTION_STATES, "BAD_PUSH_SUBSCRIPTION_STATE"),
    "current_location": _check_location,
    "subscription_groups": _check_subscription_groups,
    "email_subscription_info": _never("INVALID_ATTRIBUTE_EMAIL_SUBSCRIPTION_INFO"),
}
