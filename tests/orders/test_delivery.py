"""Estimated delivery dates: cut-off, handling days, transit days, weekends, holidays."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from orders.delivery import add_business_days, estimate_delivery

MADRID = ZoneInfo("Europe/Madrid")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=MADRID)


@pytest.fixture(autouse=True)
def _madrid(settings):
    settings.TIME_ZONE = "Europe/Madrid"


def test_before_cutoff_ships_today():
    # Monday 23 Nov, 10:00, cut-off 14:00, 1 handling day, 2 transit days → Thu 26
    assert estimate_delivery(now=at(23, 10), cutoff=time(14), handling_days=1, transit_days=2, holidays=set()) \
        == date(2026, 11, 26)


def test_after_cutoff_starts_next_business_day():
    assert estimate_delivery(now=at(23, 15), cutoff=time(14), handling_days=1, transit_days=2, holidays=set()) \
        == date(2026, 11, 27)


def test_friday_after_cutoff_rolls_over_the_weekend():
    # Fri 27 Nov 16:00 → handled from Mon 30, +1 handling = Tue 1 Dec, +2 transit = Thu 3 Dec
    assert estimate_delivery(now=at(27, 16), cutoff=time(14), handling_days=1, transit_days=2, holidays=set()) \
        == date(2026, 12, 3)


def test_holidays_are_skipped():
    holidays = {date(2026, 12, 8)}  # Immaculate Conception in Spain, a Tuesday
    assert add_business_days(date(2026, 12, 7), 1, holidays=holidays) == date(2026, 12, 9)
    assert estimate_delivery(now=datetime(2026, 12, 7, 9, tzinfo=MADRID), cutoff=time(14), handling_days=0,
                             transit_days=1, holidays=holidays) == date(2026, 12, 9)


def test_order_placed_on_saturday_is_handled_from_monday():
    assert estimate_delivery(now=at(28, 10), cutoff=time(14), handling_days=0, transit_days=1, holidays=set()) \
        == date(2026, 12, 1)
