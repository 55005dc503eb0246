"""Spot search in LINE, end to end through the simulator with the real line-bot-sdk
client: a category picked, then a location → a carousel of the nearest spots with the
distance, whether each is open, a map link and a call button."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from delivery.spots.models import Spot
from govtech.tenancy import tenant_scope
from tests.delivery.test_case_chat_line import flex_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Tuesday 2026-12-08, 10:00 in Tokyo.
MORNING = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def spots(city):
    with tenant_scope(city):
        common = {"municipality": city, "opens_at": time(9), "closes_at": time(17)}
        return [
            Spot.objects.create(
                kind="shelter",
                source_id="E1",
                name="中央小学校",
                latitude=35.6830,
                longitude=139.7650,
                address="デモ市本町3-1",
                phone="03-1234-2222",
                hazards=["earthquake", "flood"],
                **common,
            ),
            Spot.objects.create(
                kind="shelter",
                source_id="E2",
                name="緑公園",
                latitude=35.6950,
                longitude=139.7050,
                weekdays=[5, 6],
                **common,
            ),
            Spot.objects.create(
                kind="facility",
                source_id="F1",
                name="中央図書館",
                latitude=35.6812,
                longitude=139.7671,
                **common,
            ),
        ]


def bubbles(messages):
    contents = flex_of(messages)
    return contents["contents"] if contents["type"] == "carousel" else [contents]


def texts_of(bubble) -> list[str]:
    return [node["text"] for node in bubble["body"]["contents"] if node["type"] == "text"]


def uris_of(bubble) -> list[str]:
    return [
        b["action"]["uri"]
        for b in bubble.get("footer", {}).get("contents", [])
        if b["action"]["type"] == "uri"
    ]


def test_a_resident_finds_the_nearest_shelters_after_picking_them(line_world, spots):
    hanako = line_world()
    hanako.follow()
    hanako.received()
    with time_machine.travel(MORNING, tick=False):
        hanako.say("避難所")
        asked = hanako.received()
        assert "近くの避難所・避難場所" in "".join(m.get("text", "") for m in asked)
        hanako.location(35.6840, 139.7660, "デモ市本町")
        shelters = bubbles(hanako.received())
    assert [texts_of(b)[0] for b in shelters] == ["中央小学校", "緑公園"]  # no library
    school = texts_of(shelters[0])
    assert "m" in school[1] and "デモ市本町3-1" in school
    assert any("地震" in line and "洪水" in line for line in school)
    park = texts_of(shelters[1])
    assert "現在は時間外です" in park  # opens on weekends only
    assert "現在開いています" in school
    assert any("km" in line for line in park)
    uris = uris_of(shelters[0])
    assert any(uri.startswith("https://") and "35.683000" in uri for uri in uris)
    assert "tel:0312342222" in uris


def test_a_location_sent_without_a_category_finds_every_kind(line_world, spots):
    taro = line_world("U" + "2" * 32)
    taro.follow()
    taro.received()
    taro.location(35.6812, 139.7671)
    names = [texts_of(b)[0] for b in bubbles(taro.received())]
    assert names[0] == "中央図書館" and set(names) == {"中央図書館", "中央小学校", "緑公園"}
