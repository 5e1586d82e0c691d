"""Conditions over event payloads: every operator, with numbers, strings, lists and dates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automation.conditions import ConditionError, conditions_hold, evaluate, resolve, validate

NOW = timezone.now()
PAYLOAD = {
    "number": "SA-00001234",
    "total": "1250.50",
    "quantity": 3,
    "status": "placed",
    "company": None,
    "email": "Buyer@Acme.example",
    "shipping_address": {"country": "ES", "city": "Madrid"},
    "lines": [{"sku": "TOOL-1", "quantity": 2}, {"sku": "TOOL-2", "quantity": 1}],
    "tags": ["vip", "b2b"],
    "estimated_delivery": (NOW + timedelta(days=3)).date().isoformat(),
    "placed_at": (NOW - timedelta(days=2)).isoformat(),
}


def holds(field, operator, value=None, **extra):
    return evaluate({"field": field, "operator": operator, "value": value, **extra}, PAYLOAD, now=NOW)


def test_paths_reach_nested_objects_list_items_and_every_item_of_a_list():
    assert resolve(PAYLOAD, "shipping_address.country") == "ES"
    assert resolve(PAYLOAD, "lines.1.sku") == "TOOL-2"
    assert resolve(PAYLOAD, "lines.sku") == ["TOOL-1", "TOOL-2"]
    assert holds("lines.9.sku", "is_empty")
    assert holds("nope.deeper", "is_empty")


@pytest.mark.parametrize(("operator", "value", "expected"), [
    ("eq", "1250.5", True),       # numbers compare as Decimal: "1250.50" == "1250.5"
    ("eq", 1250.5, True),
    ("ne", "1250.50", False),
    ("gt", "999.99", True),       # not a string comparison ("1250" < "999" as text)
    ("gt", "1250.50", False),
    ("gte", "1250.50", True),
    ("lt", 10000, True),
    ("lte", "1250.49", False),
    ("in", ["10", "1250.5"], True),
    ("not_in", ["10", "20"], True),
])
def test_number_operators(operator, value, expected):
    assert holds("total", operator, value) is expected


def test_integer_field_against_string_value():
    assert holds("quantity", "gte", "3")
    assert not holds("quantity", "gt", "3")


@pytest.mark.parametrize(("operator", "value", "expected"), [
    ("eq", "placed", True),
    ("eq", "Placed", False),          # equality is exact
    ("ne", "confirmed", True),
    ("contains", "ACME", True),       # contains / starts / ends ignore case
    ("not_contains", "globex", True),
    ("starts_with", "buyer@", True),
    ("ends_with", ".EXAMPLE", True),
    ("ends_with", ".com", False),
    ("matches", r"^SA-\d{8}$", True),
    ("matches", r"^Q-", False),
    ("in", ["placed", "on_hold"], True),
    ("not_in", ["placed", "on_hold"], False),
])
def test_string_operators(operator, value, expected):
    field = {"contains": "email", "not_contains": "email", "starts_with": "email", "ends_with": "email",
             "matches": "number"}.get(operator, "status")
    assert holds(field, operator, value) is expected


@pytest.mark.parametrize(("field", "operator", "value", "expected"), [
    ("tags", "contains", "vip", True),
    ("tags", "contains", "vi", False),            # list membership, not substring
    ("tags", "not_contains", "wholesale", True),
    ("tags", "in", ["b2b", "x"], True),           # any item is one of the values
    ("tags", "not_in", ["x", "y"], True),
    ("lines.sku", "contains", "TOOL-2", True),
    ("lines.quantity", "contains", "2", True),     # items compare as numbers
    ("tags", "is_not_empty", None, True),
    ("tags", "eq", ["vip", "b2b"], True),
])
def test_list_operators(field, operator, value, expected):
    assert holds(field, operator, value) is expected


def test_comparing_a_list_with_gt_is_an_error_not_a_guess():
    with pytest.raises(ConditionError):
        holds("tags", "gt", "a")


@pytest.mark.parametrize(("field", "operator", "value", "expected"), [
    ("estimated_delivery", "gt", NOW.date().isoformat(), True),
    ("estimated_delivery", "lt", NOW.date().isoformat(), False),
    ("placed_at", "lt", NOW.isoformat(), True),
    ("placed_at", "gte", (NOW - timedelta(days=1)).date().isoformat(), False),
    ("placed_at", "within_last_days", 3, True),
    ("placed_at", "within_last_days", 1, False),
    ("placed_at", "older_than_days", 1, True),
    ("placed_at", "older_than_days", "2.5", False),
    ("estimated_delivery", "eq", (NOW + timedelta(days=3)).date().isoformat(), True),
])
def test_date_operators(field, operator, value, expected):
    assert holds(field, operator, value) is expected


def test_explicit_type_forces_the_comparison():
    assert holds("number", "gt", "SA-00001000", type="string")
    with pytest.raises(ConditionError):
        holds("status", "gt", "1", type="number")
    with pytest.raises(ConditionError):
        holds("status", "gt", "2026-01-01", type="date")


def test_missing_and_empty_fields():
    assert holds("company", "is_empty")
    assert not holds("company", "is_not_empty")
    assert holds("missing", "is_empty")
    assert not holds("missing", "eq", "x")
    assert holds("missing", "ne", "x")
    assert not holds("missing", "gt", 1)
    assert holds("missing", "not_in", ["x"])


def test_all_and_any():
    big = {"field": "total", "operator": "gte", "value": "1000"}
    spain = {"field": "shipping_address.country", "operator": "eq", "value": "ES"}
    france = {"field": "shipping_address.country", "operator": "eq", "value": "FR"}
    assert conditions_hold([big, spain], PAYLOAD) == (True, "")
    ok, why = conditions_hold([big, france], PAYLOAD)
    assert not ok and "shipping_address.country" in why
    assert conditions_hold([big, france], PAYLOAD, match="any")[0]
    assert not conditions_hold([france], PAYLOAD, match="any")[0]
    assert conditions_hold([], PAYLOAD) == (True, "")


def test_validation_names_each_problem():
    problems = validate([{"field": "total", "operator": "bigger"}, {"operator": "in", "field": "x", "value": "a"},
                         {"field": "x", "operator": "matches", "value": "("}, "nonsense"])
    assert len(problems) == 4
    assert validate([{"field": "total", "operator": "gte", "value": 1}]) == []
    assert validate("no") == ["conditions must be a list"]
