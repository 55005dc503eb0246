"""Disaster mode end to end through the simulator with the real line-bot-sdk client: the
alert reaches every resident exactly once however often the switch is confirmed; while
the mode is on a location gets shelters, open ones first by distance and the others
marked; safety check answers are recorded once per resident (the latest tap wins); off,
the ordinary spot search answers again."""

import uuid

import pytest
from django_scopes import scopes_disabled

from delivery.disaster import selectors, services
from delivery.disaster.models import SafetyAnswer, ShelterStatus
from delivery.models import Friend
from govtech.tenancy import tenant_scope
from tests.delivery.disaster.world import prepare, shelter
from tests.delivery.spots.test_spot_search_line import bubbles, texts_of, uris_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
HERE = (35.6800, 139.7600)


@pytest.fixture
def town(line_world, city):
    """Two residents following (north and south), shelters around HERE."""
    prepare(city)
    hanako, taro = line_world("U" + "1" * 32), line_world("U" + "2" * 32)
    for person, area in ((hanako, "north"), (taro, "south")):
        person.follow()
        person.received()
        with scopes_disabled():
            resident = Friend.objects.get(line_user_id=person.user_id).resident
            resident.attributes = {"area": area}
            resident.save(update_fields=["attributes"])
    shelter(city, "遠い開設", 35.7200, 139.7600, ShelterStatus.OPEN, address="デモ市北町1")
    shelter(city, "近い閉鎖", 35.6801, 139.7601, ShelterStatus.CLOSED)
    shelter(city, "中くらい満員", 35.6900, 139.7600, ShelterStatus.FULL)
    shelter(city, "近い開設", 35.6850, 139.7600, ShelterStatus.OPEN, address="デモ市本町3-1")
    return hanako, taro


def switch(city, actor, turn_on: bool, key: uuid.UUID, text: str = "直ちに避難してください"):
    return services.disaster_switch_request(
        actor=actor,
        municipality=city,
        turn_on=turn_on,
        request_key=key,
        alert_title="避難指示",
        alert_text=text,
    )


def test_the_alert_reaches_everyone_once_even_when_confirmed_twice(town, city, admin_user):
    hanako, taro = town
    key = uuid.uuid4()
    switch(city, admin_user, True, key)
    switch(city, admin_user, True, key)  # the confirmation page submitted again
    for person in (hanako, taro):
        got = person.received()
        assert [m["text"] for m in got] == ["【避難指示】\n直ちに避難してください"]


def test_a_location_gets_open_shelters_first_only_while_disaster_mode_is_on(town, city, admin_user):
    hanako, _taro = town
    hanako.location(*HERE)
    peacetime = [texts_of(b)[0] for b in bubbles(hanako.received())]
    assert peacetime[0] == "近い閉鎖"  # ordinary spot search: nearest first, no status
    switch(city, admin_user, True, uuid.uuid4(), text="")
    hanako.say("避難所")
    assert "位置情報" in hanako.texts() or hanako.received()
    hanako.location(*HERE)
    cards = bubbles(hanako.received())
    assert [texts_of(b)[0] for b in cards] == ["近い開設", "遠い開設", "近い閉鎖", "中くらい満員"]
    nearest = texts_of(cards[0])
    assert "状況: 開設" in nearest and "デモ市本町3-1" in nearest
    assert any(line.endswith("m") for line in nearest)
    assert "状況: 閉鎖" in texts_of(cards[2]) and "状況: 満員" in texts_of(cards[3])
    assert any(uri.startswith("https://") for uri in uris_of(cards[0]))
    switch(city, admin_user, False, uuid.uuid4())
    hanako.location(*HERE)
    assert texts_of(bubbles(hanako.received())[0])[0] == "近い閉鎖"


def test_safety_check_answers_are_recorded_once_per_resident(town, city, admin_user):
    hanako, taro = town
    with tenant_scope(city):
        check = services.safety_check_send(
            actor=admin_user,
            municipality=city,
            text="ご無事ですか。下のボタンでお知らせください。",
            area_values=[],
            request_key=uuid.uuid4(),
        )
    hanako.received()
    assert [a["label"] for a in hanako.quick_replies()] == ["無事", "支援が必要"]
    hanako.tap("支援が必要")
    hanako.received()
    assert "119" in hanako.texts()
    # Quick replies go away once tapped; the same question's other answer, sent later,
    # replaces the first (the latest tap wins).
    hanako.postback(services.safety_postback(check, "safe"))
    hanako.received()
    assert "無事" in hanako.texts()
    taro.received()
    taro.tap("無事")
    taro.postback(services.safety_postback(check, "safe"))  # a double tap
    with tenant_scope(city):
        answers = dict(SafetyAnswer.objects.values_list("resident__display_name", "answer"))
        results = selectors.safety_results(check=check, labels={"north": "北", "south": "南"})
    assert sorted(answers.values()) == ["safe", "safe"]
    assert [(r.label, r.safe, r.needs_help, r.no_answer) for r in results.areas] == [
        ("北", 1, 0, 0),
        ("南", 1, 0, 0),
    ]
