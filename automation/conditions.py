"""Rule conditions over an event payload: pure functions, no database.

A condition is `{"field": "total", "operator": "gte", "value": "1000"}`. `field` is a
dotted path into the payload ("shipping_address.country", "lines.0.sku"); through a list
it collects every item's value ("lines.sku" → ["A-1", "B-2"]). Values are compared as
numbers when both sides are numbers (Decimal, never float), as dates when both are ISO
dates/datetimes, otherwise as strings. `"type"` ("number", "string", "date") forces one.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

MISSING = object()

OPERATORS = {
    "eq": _("equals"),
    "ne": _("does not equal"),
    "gt": _("greater than / after"),
    "gte": _("greater than or equal / on or after"),
    "lt": _("less than / before"),
    "lte": _("less than or equal / on or before"),
    "contains": _("contains (text or list)"),
    "not_contains": _("does not contain"),
    "starts_with": _("starts with"),
    "ends_with": _("ends with"),
    "in": _("is one of (value is a list)"),
    "not_in": _("is none of (value is a list)"),
    "is_empty": _("is empty or missing"),
    "is_not_empty": _("is present and not empty"),
    "within_last_days": _("date within the last N days"),
    "older_than_days": _("date more than N days ago"),
    "matches": _("matches the regular expression"),
}
TYPES = ("number", "string", "date")


class ConditionError(ValueError):
    pass


def resolve(payload, path: str):
    """The value at a dotted path, MISSING when absent; lists are mapped over."""
    value = payload
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list):
            if part.lstrip("-").isdigit():
                index = int(part)
                value = value[index] if -len(value) <= index < len(value) else MISSING
            else:
                value = [item.get(part, MISSING) if isinstance(item, dict) else MISSING for item in value]
                value = [item for item in value if item is not MISSING]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _date(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime(value.year, value.month, value.day))
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _coerce_pair(actual, expected, kind: str | None):
    """Both sides as one comparable type: (kind, actual, expected)."""
    if kind in (None, "number"):
        a, b = _number(actual), _number(expected)
        if a is not None and b is not None:
            return "number", a, b
        if kind == "number":
            raise ConditionError(f"not numbers: {actual!r}, {expected!r}")
    if kind in (None, "date"):
        a, b = _date(actual), _date(expected)
        if a is not None and b is not None:
            return "date", a, b
        if kind == "date":
            raise ConditionError(f"not dates: {actual!r}, {expected!r}")
    return "string", "" if actual is None else str(actual), "" if expected is None else str(expected)


def _equal(actual, expected, kind) -> bool:
    if isinstance(actual, list) or isinstance(expected, list):
        return actual == expected
    _, a, b = _coerce_pair(actual, expected, kind)
    return a == b


def _contains(actual, expected, kind) -> bool:
    if isinstance(actual, list):
        return any(_equal(item, expected, kind) for item in actual)
    if isinstance(actual, dict):
        return str(expected) in actual
    if actual is None or actual is MISSING:
        return False
    return str(expected).casefold() in str(actual).casefold()


def evaluate(condition: dict, payload: dict, *, now: datetime | None = None) -> bool:
    """Whether one condition holds. A missing field fails every operator but is_empty /
    not_contains / ne / not_in (which it satisfies)."""
    operator = condition.get("operator")
    if operator not in OPERATORS:
        raise ConditionError(f"unknown operator {operator!r}")
    kind = condition.get("type") or None
    if kind is not None and kind not in TYPES:
        raise ConditionError(f"unknown type {kind!r}")
    actual = resolve(payload, str(condition.get("field", "")))
    expected = condition.get("value")

    if operator == "is_empty":
        return actual is MISSING or actual in (None, "", [], {})
    if operator == "is_not_empty":
        return not (actual is MISSING or actual in (None, "", [], {}))
    if actual is MISSING:
        return operator in ("ne", "not_contains", "not_in")
    if operator == "eq":
        return _equal(actual, expected, kind)
    if operator == "ne":
        return not _equal(actual, expected, kind)
    if operator in ("in", "not_in"):
        if not isinstance(expected, list):
            raise ConditionError(f"{operator} needs a list value")
        found = any(_contains(actual, item, kind) if isinstance(actual, list) else _equal(actual, item, kind)
                    for item in expected)
        return found if operator == "in" else not found
    if operator == "contains":
        return _contains(actual, expected, kind)
    if operator == "not_contains":
        return not _contains(actual, expected, kind)
    if operator == "starts_with":
        return str(actual).casefold().startswith(str(expected).casefold())
    if operator == "ends_with":
        return str(actual).casefold().endswith(str(expected).casefold())
    if operator == "matches":
        try:
            return re.search(str(expected), str(actual)) is not None
        except re.error as exc:
            raise ConditionError(f"bad regular expression: {exc}")
    if operator in ("within_last_days", "older_than_days"):
        moment, days = _date(actual), _number(expected)
        if moment is None or days is None:
            raise ConditionError(f"{operator} needs a date field and a number of days")
        cutoff = (now or timezone.now()) - timedelta(days=float(days))
        return moment >= cutoff if operator == "within_last_days" else moment < cutoff
    if isinstance(actual, list):
        raise ConditionError(f"{operator} cannot compare a list")
    compared, a, b = _coerce_pair(actual, expected, kind)
    if operator == "gt":
        return a > b
    if operator == "gte":
        return a >= b
    if operator == "lt":
        return a < b
    return a <= b  # lte


def conditions_hold(conditions: list[dict], payload: dict, *, match: str = "all",
                    now: datetime | None = None) -> tuple[bool, str]:
    """(holds, why not). No conditions: holds."""
    if not conditions:
        return True, ""
    results = [(condition, evaluate(condition, payload, now=now)) for condition in conditions]
    if match == "any":
        if any(ok for _, ok in results):
            return True, ""
        return False, "no condition holds"
    failed = [condition for condition, ok in results if not ok]
    if not failed:
        return True, ""
    first = failed[0]
    return False, f"{first.get('field')} {first.get('operator')} {first.get('value')!r} is false"


def validate(conditions) -> list[str]:
    """Problems with a list of conditions, for the admin form."""
    if not isinstance(conditions, list):
        return ["conditions must be a list"]
    problems = []
    for number, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict):
            problems.append(f"condition {number}: must be an object")
            continue
        if not condition.get("field"):
            problems.append(f"condition {number}: field is required")
        if condition.get("operator") not in OPERATORS:
            problems.append(f"condition {number}: operator must be one of {', '.join(OPERATORS)}")
        if condition.get("type") not in (None, "", *TYPES):
            problems.append(f"condition {number}: type must be one of {', '.join(TYPES)}")
        if condition.get("operator") in ("in", "not_in") and not isinstance(condition.get("value"), list):
            problems.append(f"condition {number}: {condition['operator']} needs a list value")
        if condition.get("operator") == "matches":
            try:
                re.compile(str(condition.get("value", "")))
            except re.error as exc:
                problems.append(f"condition {number}: bad regular expression ({exc})")
    return problems
