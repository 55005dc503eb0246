"""Helpers of the rich menu tests: a published procedure and a two-tab menu set."""

from __future__ import annotations

from django_scopes import scopes_disabled

from delivery.richmenus import services
from delivery.richmenus.models import RichMenuSet
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration


def published_procedure(city, actor, key: str = "pet-registration"):
    procedure = procedure_create(actor=actor, municipality=city, document=pet_registration(key=key))
    procedure_publish(actor=actor, procedure=procedure)
    return procedure


def two_tab_set(
    actor, city, channel, *, name="基本メニュー", procedure_key="pet-registration", **options
) -> RichMenuSet:
    """Tab 「くらし」 (a procedure, 申請状況, a switch to 「防災」) and tab 「防災」."""
    menu_set = services.menu_set_save(
        actor=actor, municipality=city, channel=channel, name=name, **options
    )
    services.menu_tab_save(
        actor=actor,
        menu_set=menu_set,
        key="life",
        title="くらし",
        chat_bar_text="メニュー",
        size="large",
        layout="large-3",
        areas=[
            {"kind": "tab", "value": "safety", "label": "防災"},
            {"kind": "procedure", "value": procedure_key, "label": "ペット登録"},
            {"kind": "applications", "value": "", "label": "申請状況"},
        ],
    )
    services.menu_tab_save(
        actor=actor,
        menu_set=menu_set,
        key="safety",
        title="防災",
        chat_bar_text="防災",
        size="compact",
        layout="compact-2",
        areas=[
            {"kind": "tab", "value": "life", "label": "くらし"},
            {"kind": "uri", "value": "https://example.jp/bousai", "label": "防災サイト"},
        ],
    )
    return menu_set


def sim_menu_of(user_id: str):
    """The rich menu the simulated resident sees (per-user link, else the default)."""
    from delivery.simulator.models import (
        SimulatorChannel,
        SimulatorRichMenuLink,
    )

    with scopes_disabled():
        link = SimulatorRichMenuLink.objects.filter(user__user_id=user_id).first()
        if link is not None:
            return link.rich_menu.rich_menu_id
        channel = SimulatorChannel.objects.first()
        return channel.default_rich_menu.rich_menu_id if channel.default_rich_menu else None
