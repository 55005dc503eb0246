"""The designer's services, images, layouts and link planning (no network)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled
from PIL import Image

from delivery.richmenus import linking, publishing, services
from delivery.richmenus.images import MenuImageRejected, menu_image_check, menu_image_draw
from delivery.richmenus.layouts import LAYOUTS, layout_bounds, line_action
from delivery.richmenus.models import (
    FriendRichMenu,
    PublicationStatus,
    RichMenuLinkChunk,
    RichMenuPublication,
)
from govtech.tenancy import tenant_scope
from tests.delivery.richmenus.world import published_procedure, two_tab_set
from tests.delivery.test_segments import friend


def _image(size, kind="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format=kind)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_standard_layout_tiles_its_menu_exactly(name):
    size, bounds = layout_bounds(name)
    width, height = {"large": (2500, 1686), "compact": (2500, 843)}[size]

    assert 1 <= len(bounds) <= 6
    assert sum(b["width"] * b["height"] for b in bounds) == width * height
    assert all(b["x"] + b["width"] <= width and b["y"] + b["height"] <= height for b in bounds)


def test_an_upload_must_be_a_jpeg_or_png_of_the_menus_size_and_at_most_1_mb():
    assert menu_image_check(_image((2500, 843), "JPEG"), size="compact") == "image/jpeg"
    with pytest.raises(MenuImageRejected):
        menu_image_check(_image((2500, 843), "GIF"), size="compact")
    with pytest.raises(MenuImageRejected):
        menu_image_check(_image((1200, 405)), size="compact")
    with pytest.raises(MenuImageRejected):
        menu_image_check(b"\x89PNG" + b"0" * (1024 * 1024), size="compact")
    with pytest.raises(MenuImageRejected):
        menu_image_check(b"not an image", size="large")


def test_a_drawn_image_has_the_menus_size_and_lline_accepts_it():
    _, bounds = layout_bounds("large-6")
    kinds = ["procedure", "uri", "text", "tab", "applications", "spots"]
    areas = [
        {"bounds": b, "kind": k, "value": "x", "label": "粗大ごみ申込"}
        for b, k in zip(bounds, kinds, strict=True)
    ]

    drawn = menu_image_draw(size="large", areas=areas, current_tab="x")

    assert menu_image_check(drawn, size="large") == "image/png"


def test_each_kind_of_area_becomes_the_line_action_the_chat_understands():
    def action(kind, value=""):
        return line_action({"kind": kind, "value": value, "label": "L"}, set_id=7)

    assert action("procedure", "bulky-waste")["data"] == "gt|start|bulky-waste"
    assert action("applications")["data"] == "gt|case|list|"
    assert action("tab", "kids") == {
        "type": "richmenuswitch",
        "label": "L",
        "richMenuAliasId": "gt7-kids",
        "data": "gt|menu|tab|kids",
    }
    assert action("spots", "shelter")["data"] == "gt|spot|shelter"
    assert action("spots")["text"] == "スポット検索"
    assert action("faq", "12")["data"] == "gt|faq|12"
    assert action("uri", "https://example.jp")["uri"] == "https://example.jp"


def test_a_procedure_area_must_name_a_published_procedure(broadcaster, city, channel):
    menu_set = services.menu_set_save(
        actor=broadcaster, municipality=city, channel=channel, name="m"
    )
    with pytest.raises(ValidationError):
        services.menu_tab_save(
            actor=broadcaster,
            menu_set=menu_set,
            key="a",
            title="a",
            chat_bar_text="a",
            size="compact",
            layout="compact-1",
            areas=[{"kind": "procedure", "value": "not-published", "label": "x"}],
        )


def test_one_default_menu_per_channel(broadcaster, city, channel):
    first = services.menu_set_save(
        actor=broadcaster, municipality=city, channel=channel, name="a", is_default=True
    )
    services.menu_set_save(
        actor=broadcaster, municipality=city, channel=channel, name="b", is_default=True
    )
    with scopes_disabled():
        first.refresh_from_db()
    assert not first.is_default


def test_a_tab_another_tab_switches_to_cannot_be_deleted(broadcaster, designer, city, channel):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with scopes_disabled():
        safety = menu_set.tabs.get(key="safety")
    with pytest.raises(ValidationError):
        services.menu_tab_delete(actor=broadcaster, tab=safety)


def test_publishing_refuses_a_switch_to_a_missing_tab(broadcaster, designer, city, channel):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with scopes_disabled():
        menu_set.tabs.filter(key="safety").delete()
    with pytest.raises(ValidationError):
        services.menu_set_publish(actor=broadcaster, menu_set=menu_set)


def test_the_link_plan_is_written_once_in_requests_of_500(broadcaster, designer, city, channel):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with tenant_scope(city):
        RichMenuPublication.objects.create(
            municipality=city,
            menu_set=menu_set,
            revision=1,
            fingerprint="f",
            document={"tabs": [{"key": "life"}]},
            line_ids={"life": "richmenu-1"},
            status=PublicationStatus.LIVE,
        )
        friends = [friend(channel, n) for n in range(1, 1003)]
        FriendRichMenu.objects.bulk_create(
            [FriendRichMenu(municipality=city, friend=f, menu_set=menu_set) for f in friends]
        )

        written = linking.links_plan(channel=channel)
        again = linking.links_plan(channel=channel)

        sizes = sorted(len(c.friend_ids) for c in RichMenuLinkChunk.objects.all())
    assert (written, again) == (3, 0)
    assert sizes == [2, 500, 500]


def test_disaster_mode_plans_links_to_the_disaster_menu_only_for_friends_with_their_own(
    broadcaster, designer, city, channel
):
    published_procedure(city, designer)
    own = two_tab_set(broadcaster, city, channel, name="own")
    disaster = two_tab_set(broadcaster, city, channel, name="災害", purpose="disaster")
    with tenant_scope(city):
        for menu_set, line_id in ((own, "richmenu-own"), (disaster, "richmenu-disaster")):
            RichMenuPublication.objects.create(
                municipality=city,
                menu_set=menu_set,
                revision=1,
                fingerprint=line_id,
                document={"tabs": [{"key": "life"}]},
                line_ids={"life": line_id},
                status=PublicationStatus.LIVE,
            )
        with_own, without = friend(channel, 1), friend(channel, 2)
        FriendRichMenu.objects.create(municipality=city, friend=with_own, menu_set=own)
        FriendRichMenu.objects.create(municipality=city, friend=without, menu_set=None)
        linking.disaster_mode_record(channel=channel, active=True)

        linking.links_plan(channel=channel)

        chunks = list(RichMenuLinkChunk.objects.values_list("line_id", "friend_ids"))
    assert chunks == [("richmenu-disaster", [with_own.pk])]


def _publication(city, menu_set, line_id: str, status=PublicationStatus.LIVE):
    return RichMenuPublication.objects.create(
        municipality=city,
        menu_set=menu_set,
        revision=1,
        fingerprint=line_id,
        document={"tabs": [{"key": "life"}]},
        line_ids={"life": line_id},
        status=status,
    )


def test_an_older_publication_finishing_late_does_not_replace_a_newer_one(
    broadcaster, designer, city, channel
):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with tenant_scope(city):
        older = _publication(city, menu_set, "richmenu-old", PublicationStatus.PENDING)
        newer = _publication(city, menu_set, "richmenu-new")

        publishing._go_live(older)

        older.refresh_from_db()
        newer.refresh_from_db()
    assert (older.status, newer.status) == (PublicationStatus.RETIRED, PublicationStatus.LIVE)


def test_changing_a_live_set_brings_line_in_step_after_commit(
    broadcaster, designer, city, channel, django_capture_on_commit_callbacks
):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with tenant_scope(city):
        _publication(city, menu_set, "richmenu-1")

    with django_capture_on_commit_callbacks() as enqueued:
        services.menu_set_save(
            actor=broadcaster,
            municipality=city,
            channel=channel,
            name="基本",
            is_default=True,
            menu_set=menu_set,
        )

    assert len(enqueued) == 1


def test_a_live_set_cannot_be_deleted_in_the_console(client, broadcaster, designer, city, channel):
    published_procedure(city, designer)
    menu_set = two_tab_set(broadcaster, city, channel)
    with tenant_scope(city):
        _publication(city, menu_set, "richmenu-1")
    client.force_login(broadcaster)

    response = client.post(f"/admin/delivery/richmenuset/{menu_set.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
