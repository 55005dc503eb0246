"""Publishing a menu set to LINE (the simulator) with the real SDK, end to end."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from delivery.richmenus import services
from delivery.richmenus.models import PublicationStatus, RichMenuPublication
from delivery.simulator.models import SimulatorApiCall, SimulatorRichMenu, SimulatorRichMenuAlias
from tests.delivery.richmenus.world import published_procedure, sim_menu_of, two_tab_set

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _publish(actor, menu_set) -> RichMenuPublication:
    publication = services.menu_set_publish(actor=actor, menu_set=menu_set)
    with scopes_disabled():
        publication.refresh_from_db()
    return publication


def test_a_resident_taps_a_tab_then_a_procedure_and_the_conversation_starts(
    line_world,
    city,
    broadcaster,
    designer,
):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, line_world.channel, is_default=True)
    publication = _publish(broadcaster, menu_set)
    resident = line_world()
    resident.follow()
    resident.received()

    assert publication.status == PublicationStatus.LIVE
    assert sim_menu_of(resident.user_id) == publication.line_ids["life"]
    resident._say(
        richmenuswitch={"richMenuAliasId": f"gt{menu_set.pk}-safety", "data": "gt|menu|tab|safety"}
    )
    assert sim_menu_of(resident.user_id) == publication.line_ids["safety"]
    assert resident.received() == []  # a tab switch is not answered
    resident._say(
        richmenuswitch={"richMenuAliasId": f"gt{menu_set.pk}-life", "data": "gt|menu|tab|life"}
    )
    with scopes_disabled():
        body = SimulatorRichMenu.objects.get(rich_menu_id=publication.line_ids["life"]).body
    procedure_area = body["areas"][1]["action"]
    resident.postback(procedure_area["data"])
    resident.received()
    assert procedure_area["data"] == "gt|start|pet-registration"
    assert "飼い主の氏名" in resident.texts()  # the first step of the procedure


def test_publishing_the_same_content_again_sends_nothing_to_line(
    line_world,
    city,
    broadcaster,
    designer,
):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, line_world.channel, is_default=True)
    first = _publish(broadcaster, menu_set)
    with scopes_disabled():
        calls = SimulatorApiCall.objects.count()

    again = _publish(broadcaster, menu_set)

    with scopes_disabled():
        assert SimulatorApiCall.objects.count() == calls
    assert again.pk == first.pk


def test_a_new_version_replaces_the_old_menus_and_moves_the_aliases(
    line_world,
    city,
    broadcaster,
    designer,
):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, line_world.channel, is_default=True)
    first = _publish(broadcaster, menu_set)
    with scopes_disabled():
        safety = menu_set.tabs.get(key="safety")
    services.menu_tab_save(
        actor=broadcaster,
        menu_set=menu_set,
        tab=safety,
        key="safety",
        title="防災",
        chat_bar_text="防災情報",
        size="compact",
        layout="compact-2",
        areas=safety.areas,
    )

    second = _publish(broadcaster, menu_set)

    with scopes_disabled():
        first.refresh_from_db()
        aliases = dict(
            SimulatorRichMenuAlias.objects.values_list("alias_id", "rich_menu__rich_menu_id")
        )
        remaining = set(SimulatorRichMenu.objects.values_list("rich_menu_id", flat=True))
    assert second.status == PublicationStatus.LIVE
    assert first.status == PublicationStatus.RETIRED and first.deleted_at is not None
    assert aliases == {
        f"gt{menu_set.pk}-life": second.line_ids["life"],
        f"gt{menu_set.pk}-safety": second.line_ids["safety"],
    }
    assert remaining == set(second.line_ids.values())
    assert sim_menu_of(line_world().user_id) == second.line_ids["life"]
