"""Reads of spots: the nearest ones to a place, and whether a spot is open at a moment.

Nearest without PostGIS: a latitude band from the (municipality, kind, latitude) index
and a longitude range narrow the candidates in SQL; the exact great-circle distance
orders them in Python. The band widens until it holds enough spots (or the whole
dataset), so the answer equals a full scan's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import holidays
from django.utils import timezone

from delivery.spots.models import Spot

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
FIRST_RADIUS_M = 500
# Past this radius (500 m × 4⁵) the whole dataset is read: a box would hold most of it.
LARGEST_RADIUS_M = 512_000


@dataclass(frozen=True)
class Nearby:
    spot: Spot
    metres: float


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearest_spots(
    *, latitude: float, longitude: float, kinds: Iterable[str], limit: int = 5
) -> list[Nearby]:
    """The ``limit`` active spots of ``kinds`` nearest to the place, nearest first.

    Only (pk, latitude, longitude) of the candidates are read; the whole rows of the
    nearest ``limit`` come in one more statement."""
    spots = Spot.objects.filter(kind__in=list(kinds), is_active=True)
    radius = FIRST_RADIUS_M
    while True:
        last = radius >= LARGEST_RADIUS_M
        candidates = spots if last else _within_box(spots, latitude, longitude, radius)
        ranked = sorted(
            (haversine_m(latitude, longitude, lat, lon), pk)
            for pk, lat, lon in candidates.values_list("pk", "latitude", "longitude")
        )
        # Inside the box, only what is within ``radius`` is sure to be the nearest.
        sure = ranked if last else [pair for pair in ranked if pair[0] <= radius]
        if len(sure) >= limit or last:
            break
        radius *= 4
    nearest = sure[:limit]
    rows = Spot.objects.in_bulk([pk for _metres, pk in nearest])
    return [Nearby(rows[pk], metres) for metres, pk in nearest]


def _within_box(spots, latitude: float, longitude: float, radius: float):
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    cos = max(math.cos(math.radians(latitude)), 0.01)
    dlon = min(180.0, math.degrees(radius / (EARTH_RADIUS_M * cos)))
    return spots.filter(
        latitude__gte=latitude - dlat,
        latitude__lte=latitude + dlat,
        longitude__gte=longitude - dlon,
        longitude__lte=longitude + dlon,
    )


_japanese_holidays = holidays.country_holidays("JP")


def is_holiday(day) -> bool:
    return day in _japanese_holidays


def open_at(spot: Spot, moment: datetime) -> bool | None:
    """Whether the spot is open at ``moment`` (Asia/Tokyo): its open weekdays, public
    holidays (国民の祝日 and 振替休日) only when it opens on them, and its hours. None when
    the data does not say (no hours)."""
    if spot.opens_at is None or spot.closes_at is None:
        return None
    local = timezone.localtime(moment)
    if is_holiday(local.date()):
        if not spot.open_on_holidays:
            return False
    elif spot.weekdays and local.weekday() not in spot.weekdays:
        return False
    now = local.time()
    if spot.opens_at <= spot.closes_at:
        return spot.opens_at <= now < spot.closes_at
    return now >= spot.opens_at or now < spot.closes_at  # open past midnight
