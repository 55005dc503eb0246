"""The disaster switch end to end, with menus and the alert together, through the simulator
and the real line-bot-sdk client: switched on by an admin's confirmed request, every
resident (also one with a segment's own menu) gets the disaster menu and the alert once;
switched off, each gets back exactly the menu they had."""

import uuid

import pytest
from django_scopes import scopes_disabled

from delivery.broadcasts.services import segment_save
from delivery.models import Friend
from delivery.richmenus import services as menus
from procedures.residents.services import resident_attribute_forget, resident_attributes_update
from tests.delivery.disaster.test_disaster_line import switch
from tests.delivery.disaster.world import prepare
from tests.delivery.richmenus.world import published_procedure, sim_menu_of, two_tab_set

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _live_tab(menu_set, actor) -> str:
    publication = menus.menu_set_publish(actor=actor, menu_set=menu_set)
    with scopes_disabled():
        publication.refresh_from_db()
    return publication.line_ids["life"]


@pytest.fixture
def town(line_world, city, broadcaster, designer):
    """Hanako (子育て世帯, her segment's menu) and Taro (the default menu), following."""
    prepare(city)
    published_procedure(city, designer)
    hanako, taro = line_world("U" + "a" * 32), line_world("U" + "b" * 32)
    for person in (hanako, taro):
        person.follow()
        person.received()
    channel = line_world.channel
    families = segment_save(
        actor=broadcaster,
        municipality=city,
        name="子育て世帯",
        rules={"match": "all", "conditions": [{"field": "household", "op": "is", "value": "kids"}]},
    )
    ids = {
        "default": _live_tab(two_tab_set(broadcaster, city, channel, is_default=True), broadcaster),
        "kids": _live_tab(
            two_tab_set(broadcaster, city, channel, name="子育て", segment=families, priority=5),
            broadcaster,
        ),
        "disaster": _live_tab(
            two_tab_set(broadcaster, city, channel, name="災害", purpose="disaster"), broadcaster
        ),
    }
    with scopes_disabled():
        resident = Friend.objects.get(line_user_id=hanako.user_id).resident
    resident_attributes_update(resident=resident, values={"household": "kids", "area": "north"})
    return hanako, taro, ids, resident


def test_switching_on_gives_everyone_the_disaster_menu_and_the_alert_once_and_off_restores(
    town, city, admin_user
):
    hanako, taro, ids, _resident = town
    assert (sim_menu_of(hanako.user_id), sim_menu_of(taro.user_id)) == (ids["kids"], ids["default"])

    key = uuid.uuid4()
    switch(city, admin_user, True, key)
    switch(city, admin_user, True, key)  # the confirmation page sent again

    assert {sim_menu_of(hanako.user_id), sim_menu_of(taro.user_id)} == {ids["disaster"]}
    for person in (hanako, taro):
        assert [m["text"] for m in person.received()] == ["【避難指示】\n直ちに避難してください"]

    switch(city, admin_user, False, uuid.uuid4())

    assert (sim_menu_of(hanako.user_id), sim_menu_of(taro.user_id)) == (ids["kids"], ids["default"])


def test_an_attribute_staff_removed_takes_the_resident_out_of_the_segments_menu(town):
    hanako, _taro, ids, hanako_resident = town

    resident_attribute_forget(resident=hanako_resident, key="household")

    assert sim_menu_of(hanako.user_id) == ids["default"]
