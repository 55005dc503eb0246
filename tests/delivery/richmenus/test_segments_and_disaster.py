"""Menus per segment linked in bulk, kept in step with attributes, swapped for the
disaster menu and restored exactly — against the simulator, with the real SDK."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from delivery.broadcasts.services import segment_save
from delivery.disaster.signals import disaster_mode_changed
from delivery.models import Friend
from delivery.richmenus import services
from delivery.richmenus.models import FriendRichMenu, LinkChunkStatus, RichMenuLinkChunk
from delivery.simulator.models import SimulatorApiCall, SimulatorRichMenuLink, SimulatorUser
from procedures.residents.models import Resident
from procedures.residents.services import resident_attributes_update
from tests.delivery.richmenus.world import published_procedure, sim_menu_of, two_tab_set

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAMILIES = 620  # more than one bulk link request holds (500)
OTHERS = 5


def _residents(city, channel, count: int, attributes: dict, start: int) -> list[str]:
    user_ids = [f"U{n:032x}" for n in range(start, start + count)]
    with scopes_disabled(), transaction.atomic():
        SimulatorUser.objects.bulk_create(
            [SimulatorUser(user_id=u, display_name="住民") for u in user_ids]
        )
        residents = Resident.objects.bulk_create(
            [
                Resident(municipality=city, handle=f"line:{u}", attributes=attributes)
                for u in user_ids
            ]
        )
        Friend.objects.bulk_create(
            [
                Friend(municipality=city, channel=channel, line_user_id=u, resident=r)
                for u, r in zip(user_ids, residents, strict=True)
            ]
        )
    return user_ids


def _bulk_calls() -> int:
    with scopes_disabled():
        return SimulatorApiCall.objects.filter(path__endswith="/richmenu/bulk/link").count()


def _links() -> dict[str, str]:
    with scopes_disabled():
        return dict(
            SimulatorRichMenuLink.objects.values_list("user__user_id", "rich_menu__rich_menu_id")
        )


@pytest.fixture
def menus(line_world, city, broadcaster, designer):
    """A default set, a set for 子育て世帯 and a disaster set, all live; 620 families
    and 5 other residents."""
    channel = line_world.channel
    published_procedure(city, designer)
    families = _residents(city, channel, FAMILIES, {"household": "kids"}, start=1)
    others = _residents(city, channel, OTHERS, {"household": "single"}, start=10_000)
    segment = segment_save(
        actor=broadcaster,
        municipality=city,
        name="子育て世帯",
        rules={"match": "all", "conditions": [{"field": "household", "op": "is", "value": "kids"}]},
    )
    default = two_tab_set(broadcaster, city, channel, name="基本", is_default=True)
    kids = two_tab_set(broadcaster, city, channel, name="子育て", segment=segment, priority=5)
    disaster = two_tab_set(broadcaster, city, channel, name="災害", purpose="disaster")
    ids = {}
    for name, menu_set in (("default", default), ("kids", kids), ("disaster", disaster)):
        publication = services.menu_set_publish(actor=broadcaster, menu_set=menu_set)
        with scopes_disabled():
            publication.refresh_from_db()
        ids[name] = publication.line_ids["life"]
    return {"ids": ids, "families": families, "others": others}


def test_segment_members_are_linked_in_requests_of_at_most_500(menus):
    links = _links()

    assert set(links) == set(menus["families"])
    assert set(links.values()) == {menus["ids"]["kids"]}
    assert _bulk_calls() == 2  # 620 families: 500 + 120
    assert sim_menu_of(menus["others"][0]) == menus["ids"]["default"]
    with scopes_disabled():
        assert not RichMenuLinkChunk.objects.exclude(status=LinkChunkStatus.DONE).exists()


def test_a_resident_who_leaves_the_segment_gets_the_default_menu_back(menus, city):
    leaving = menus["families"][0]
    with scopes_disabled():
        resident = Friend.objects.get(line_user_id=leaving).resident

    resident_attributes_update(resident=resident, values={"household": "single"})

    assert sim_menu_of(leaving) == menus["ids"]["default"]
    assert sim_menu_of(menus["families"][1]) == menus["ids"]["kids"]


def test_disaster_mode_gives_everyone_the_disaster_menu_and_restores_each_menu(menus, city):
    families, others, ids = menus["families"], menus["others"], menus["ids"]

    disaster_mode_changed.send(sender=None, municipality=city, active=True, actor=None)

    assert {sim_menu_of(u) for u in families + others} == {ids["disaster"]}
    calls_on = _bulk_calls()
    disaster_mode_changed.send(sender=None, municipality=city, active=True, actor=None)
    assert _bulk_calls() == calls_on  # the same signal twice: nothing more to do

    # An attribute change while disaster mode is on is recorded, not applied.
    with scopes_disabled():
        leaving = Friend.objects.get(line_user_id=families[0]).resident
        joining = Friend.objects.get(line_user_id=others[0]).resident
    resident_attributes_update(resident=leaving, values={"household": "single"})
    resident_attributes_update(resident=joining, values={"household": "kids"})
    assert {sim_menu_of(u) for u in families + others} == {ids["disaster"]}

    disaster_mode_changed.send(sender=None, municipality=city, active=False, actor=None)

    assert sim_menu_of(families[0]) == ids["default"]
    assert sim_menu_of(others[0]) == ids["kids"]
    assert {sim_menu_of(u) for u in families[1:]} == {ids["kids"]}
    assert {sim_menu_of(u) for u in others[1:]} == {ids["default"]}
    with scopes_disabled():
        rows = FriendRichMenu.objects.exclude(menu_set=None).count()
    assert rows == FAMILIES
