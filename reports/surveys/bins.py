"""Histogram bins for numbers and dates, from counts per distinct value.

Bins are contiguous and empty ones are kept (a gap is information), so they add up to
the question's answers like a choice's cells do. Numbers: one bin per whole number when
the answers are whole numbers over a range of at most ``MAX_BINS``, otherwise about ten
bins of a round width (1, 2 or 5 × 10ⁿ). Dates: days, weeks (from Monday), months or
years, whichever keeps the bins at most ``MAX_DATE_BINS``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

MAX_BINS = 12
TARGET_BINS = 10
MAX_DATE_BINS = 31


@dataclass(frozen=True)
class Bin:
    key: str
    label: str
    count: int


def number_bins(counts: Mapping[float, int]) -> list[Bin]:
    """``counts``: answers per distinct number."""
    if not counts:
        return []
    low, high = min(counts), max(counts)
    whole = all(float(value).is_integer() for value in counts)
    if whole and high - low < MAX_BINS:
        return [
            Bin(str(int(value)), f"{int(value):,}", int(counts.get(value, 0)))
            for value in range(int(low), int(high) + 1)
        ]
    width = _round_width((high - low) / TARGET_BINS)
    start = math.floor(low / width) * width
    totals = [0] * (int((high - start) // width) + 1)
    for value, count in counts.items():
        totals[min(int((value - start) // width), len(totals) - 1)] += count
    return [
        _number_bin(start + index * width, width, whole, count)
        for index, count in enumerate(totals)
    ]


def _round_width(raw: float) -> float:
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _number_bin(low: float, width: float, whole: bool, count: int) -> Bin:
    if whole and float(width).is_integer():
        label = f"{int(low):,}–{int(low + width - 1):,}"
    else:
        label = _("%(low)s to under %(high)s") % {"low": f"{low:g}", "high": f"{low + width:g}"}
    return Bin(f"{low:g}", label, count)


def date_bins(counts: Mapping[date, int]) -> list[Bin]:
    """``counts``: answers per distinct day."""
    if not counts:
        return []
    low, high = min(counts), max(counts)
    for unit in ("day", "week", "month", "year"):
        starts = _starts(low, high, unit)
        if len(starts) <= MAX_DATE_BINS or unit == "year":
            break
    totals = dict.fromkeys(starts, 0)
    for day, count in counts.items():
        totals[_start_of(day, unit)] += count
    return [Bin(start.isoformat(), _date_label(start, unit), totals[start]) for start in starts]


def _start_of(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def _starts(low: date, high: date, unit: str) -> list[date]:
    starts, current = [], _start_of(low, unit)
    while current <= high:
        starts.append(current)
        current = _next(current, unit)
    return starts


def _next(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def _date_label(start: date, unit: str) -> str:
    if unit == "week":
        return _("week of %(day)s") % {"day": f"{start:%Y/%m/%d}"}
    if unit == "month":
        return f"{start:%Y/%m}"
    if unit == "year":
        return f"{start:%Y}"
    return f"{start:%Y/%m/%d}"
