"""`{{ amount|money:currency }}` (a template builtin: no {% load %} needed, also in the
email templates staff edit): an amount in the active language's
format (Babel/CLDR): "€1,234.50" in English, "1234,50 €" in Spanish, "€ 1.234,50" in
Brazilian Portuguese, "€1,234.50" in Simplified Chinese."""

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

register = template.Library()


def babel_locale(language: str | None = None) -> Locale:
    return _parsed_locale(to_locale(language or get_language() or settings.LANGUAGE_CODE))


@lru_cache(maxsize=32)
def _parsed_locale(code: str) -> Locale:
    # Parsing the CLDR locale is a third of each call's cost: do it once per language.
    return Locale.parse(code)


def format_money(amount, currency: str | None = None, language: str | None = None) -> str:
    """Decimal (or its string, as in event payloads) → localized text; "" for None/"".
    Without a currency only the number is localized (two decimals)."""
    if amount is None or amount == "":
        return ""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    locale = babel_locale(language)
    if not currency:
        return format_decimal(value, format="#,##0.00", locale=locale)
    return format_currency(value, currency.upper(), locale=locale)


@register.filter
def money(amount, currency=None):
    return format_money(amount, currency)


@register.filter
def isodate(value):
    """"2026-12-01" (dates in event payloads are ISO strings) → a date, so that `|date`
    formats it for the active language; anything else is returned unchanged."""
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


@register.simple_tag(name="money")
def money_tag(amount, currency=None):
    """`{% money total currency %}`: the same, for templates whose context may lack the
    currency (email templates, staff test sends): a missing tag argument renders "",
    where a missing filter argument would fail the whole render."""
    return format_money(amount, currency)
