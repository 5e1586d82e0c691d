"""Estimated delivery dates: warehouse cut-off and handling days, carrier transit days
per region, business days and holidays."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .models import Holiday, ShippingRate


def holidays_between(start: date, end: date, *, regions: list[str]) -> set[date]:
    return set(
        Holiday.objects.filter(date__range=(start, end), region__in=["", *regions]).values_list("date", flat=True)
    )


def add_business_days(start: date, days: int, *, holidays: set[date]) -> date:
    """The date `days` business days after `start` (weekends and holidays skipped)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            days -= 1
    return current


def next_business_day(day: date, *, holidays: set[date]) -> date:
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def estimate_delivery(
    *, now: datetime, cutoff: time | None, handling_days: int, transit_days: int, holidays: set[date]
) -> date:
    """Orders placed after the warehouse's cut-off (local time) are handled from the next
    business day; then handling days at the warehouse, then the carrier's transit days."""
    local = timezone.localtime(now)
    ship_from = local.date()
    if cutoff is not None and local.time() > cutoff:
        ship_from += timedelta(days=1)
    ship_from = next_business_day(ship_from, holidays=holidays)
    ship_date = add_business_days(ship_from, handling_days, holidays=holidays)
    return add_business_days(ship_date, transit_days, holidays=holidays)


def rate_for(*, method_id: int, region: str, currency: str) -> ShippingRate | None:
    """The method's rate for the region, falling back to its catch-all rate."""
    rates = {r.region: r for r in ShippingRate.objects.filter(method_id=method_id, currency=currency,
                                                                region__in=[region, ""])}
    return rates.get(region) or rates.get("")
