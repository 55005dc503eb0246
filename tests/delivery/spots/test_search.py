"""The nearest spots equal a brute-force haversine over every spot; "open now" follows
weekdays, hours and Japanese public holidays."""

import random
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from delivery.spots.chat import _card
from delivery.spots.models import Spot
from delivery.spots.selectors import Nearby, haversine_m, nearest_spots, open_at
from govtech.tenancy import tenant_scope

TOKYO = ZoneInfo("Asia/Tokyo")


def test_haversine_of_known_distances():
    # Tokyo Station → Shin-Osaka Station: about 403 km as the crow flies.
    assert haversine_m(35.681236, 139.767125, 34.733, 135.5003) == pytest.approx(403_000, rel=0.01)
    assert haversine_m(35.0, 139.0, 35.0, 139.0) == 0
    # 0.001° of latitude is about 111 m anywhere.
    assert haversine_m(35.0, 139.0, 35.001, 139.0) == pytest.approx(111.2, abs=0.2)


def test_nearest_equals_a_brute_force_scan_on_random_points(city, other_town):
    rng = random.Random(20261205)
    with tenant_scope(city):
        Spot.objects.bulk_create(
            Spot(
                municipality=city,
                kind=rng.choice(["facility", "shelter"]),
                source_id=f"S{n:04d}",
                name=f"スポット{n}",
                # Dense in the city, a few far away (another prefecture).
                latitude=rng.uniform(35.6, 35.8) if n % 20 else rng.uniform(33.0, 38.0),
                longitude=rng.uniform(139.6, 139.9) if n % 20 else rng.uniform(130.0, 141.0),
                is_active=n % 13 != 0,
            )
            for n in range(600)
        )
        everything = [s for s in Spot.objects.all() if s.is_active]
    with tenant_scope(other_town):  # another municipality's spot on the very same place
        Spot.objects.create(
            municipality=other_town,
            kind="facility",
            source_id="X",
            name="よそ",
            latitude=35.7,
            longitude=139.75,
        )
    for _ in range(40):
        lat, lon = rng.uniform(33.0, 38.0), rng.uniform(130.0, 141.0)
        if rng.random() < 0.7:
            lat, lon = rng.uniform(35.6, 35.8), rng.uniform(139.6, 139.9)
        kinds = rng.choice([["facility"], ["shelter"], ["facility", "shelter"]])
        limit = rng.choice([1, 5, 10])
        brute = sorted(
            (haversine_m(lat, lon, s.latitude, s.longitude), s.pk)
            for s in everything
            if s.kind in kinds
        )[:limit]
        with tenant_scope(city):
            found = nearest_spots(latitude=lat, longitude=lon, kinds=kinds, limit=limit)
        assert [(n.metres, n.spot.pk) for n in found] == brute


def spot(**fields):
    return Spot(kind="facility", source_id="L", name="図書館", latitude=35, longitude=139, **fields)


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


def test_open_now_follows_weekdays_hours_and_holidays():
    library = spot(
        weekdays=[1, 2, 3, 4, 5, 6], open_on_holidays=False, opens_at=time(9), closes_at=time(19)
    )
    assert open_at(library, at(2026, 12, 8, 10)) is True  # a Tuesday
    assert open_at(library, at(2026, 12, 8, 19)) is False  # closing time
    assert open_at(library, at(2026, 12, 7, 10)) is False  # a Monday
    # 2026-11-03 (文化の日) is a Tuesday: a weekday it opens, but a public holiday.
    assert open_at(library, at(2026, 11, 3, 10)) is False
    # 2026-05-06 is a 振替休日 (5/3 憲法記念日 fell on a Sunday).
    assert open_at(library, at(2026, 5, 6, 10)) is False
    assert open_at(library, at(2026, 5, 7, 10)) is True


def test_a_spot_open_on_holidays_opens_on_a_holiday_that_is_not_its_weekday():
    weekend = spot(weekdays=[5, 6], open_on_holidays=True, opens_at=time(10), closes_at=time(16))
    assert open_at(weekend, at(2026, 11, 23, 12)) is True  # 勤労感謝の日, a Monday
    assert open_at(weekend, at(2026, 11, 24, 12)) is False  # an ordinary Tuesday


def test_hours_past_midnight_and_unknown_hours():
    night = spot(weekdays=list(range(7)), opens_at=time(22), closes_at=time(6))
    assert open_at(night, at(2026, 12, 8, 23)) is True
    assert open_at(night, at(2026, 12, 8, 5)) is True
    assert open_at(night, at(2026, 12, 8, 12)) is False
    assert open_at(spot(), at(2026, 12, 8, 12)) is None  # the file gave no hours


def test_times_are_tokyo_times_whatever_the_moment_s_zone():
    library = spot(weekdays=list(range(7)), opens_at=time(9), closes_at=time(17))
    utc = datetime(2026, 12, 8, 1, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in Tokyo
    assert open_at(library, utc) is True


def test_a_card_has_no_map_button_when_no_map_link_is_configured(settings):
    place = spot(weekdays=list(range(7)), opens_at=time(9), closes_at=time(17), phone="03-1")
    settings.MAP_LINK_URL = "https://map.example.jp/?lat={lat}&lon={lon}"
    card = _card(Nearby(place, 120.0), at(2026, 12, 8, 10))
    assert [link.url for link in card.links] == [
        "https://map.example.jp/?lat=35.000000&lon=139.000000",
        "tel:031",
    ]
    settings.MAP_LINK_URL = ""
    card = _card(Nearby(place, 120.0), at(2026, 12, 8, 10))
    assert [link.url for link in card.links] == ["tel:031"]  # never an empty address
