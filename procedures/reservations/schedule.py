"""Which slots a resource has: weekly opening rules minus closures and public holidays,
inside the booking window. Pure functions over already-loaded rows (no queries here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class SlotTime:
    starts_at: datetime
    ends_at: datetime


@cache
def _japan_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_public_holiday(day: date) -> bool:
    """Japanese public holidays (祝日・振替休日・国民の休日), from the holidays library."""
    return day in _japan_holidays(day.year)


def is_open_on(resource, day: date, closed_days: set[date]) -> bool:
    if day in closed_days:
        return False
    return not (resource.closed_on_holidays and is_public_holiday(day))


def day_slots(resource, rules: Iterable, day: date) -> Iterator[SlotTime]:
    """The slots of `day` from the opening rules, in order (times in Asia/Tokyo)."""
    length = timedelta(minutes=resource.slot_minutes)
    for rule in sorted((r for r in rules if r.weekday == day.weekday()), key=lambda r: r.opens):
        start = datetime.combine(day, rule.opens, TOKYO)
        end_of_range = datetime.combine(day, rule.closes, TOKYO)
        while start + length <= end_of_range:
            yield SlotTime(start, start + length)
            start += length


def booking_window(resource, now: datetime) -> tuple[datetime, datetime]:
    """Slots starting in [earliest, latest] can be booked now.

    Opens `opens_days_ahead` days ahead (whole days: until the end of that day) and
    closes `closes_hours_before` hours before the slot starts.
    """
    today = now.astimezone(TOKYO).date()
    last_day = today + timedelta(days=resource.opens_days_ahead)
    latest = datetime.combine(last_day, time.max, TOKYO)
    return now + timedelta(hours=resource.closes_hours_before), latest


def bookable_slots(
    resource, rules: Iterable, closed_days: set[date], first: date, days: int, now: datetime
) -> list[SlotTime]:
    """Slots of `days` days from `first` that are open and inside the booking window."""
    rules = list(rules)
    earliest, latest = booking_window(resource, now)
    found = []
    for offset in range(max(days, 0)):
        day = first + timedelta(days=offset)
        if not is_open_on(resource, day, closed_days):
            continue
        found += [s for s in day_slots(resource, rules, day) if earliest <= s.starts_at <= latest]
    return found
