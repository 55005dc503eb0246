"""The designer in the console: building a tab, images checked against LINE's rules,
publishing asked for; another municipality sees nothing."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from PIL import Image

from delivery.richmenus.models import PublicationStatus, RichMenuPublication, RichMenuTab
from tests.delivery.richmenus.world import published_procedure, two_tab_set


@pytest.fixture
def menu_set(channel, city, broadcaster, designer):
    published_procedure(city, designer)
    return two_tab_set(broadcaster, city, channel, is_default=True)


def _designer(menu_set):
    return reverse("admin:delivery_richmenuset_designer", args=[menu_set.pk])


def _png(size) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def test_the_designer_shows_each_tab_as_on_a_phone(client, broadcaster, menu_set):
    client.force_login(broadcaster)
    page = client.get(_designer(menu_set)).content.decode()

    assert 'data-testid="preview-life"' in page and 'data-testid="preview-safety"' in page
    with scopes_disabled():
        tab = menu_set.tabs.get(key="life")
    image = client.get(reverse("admin:delivery_richmenuset_image", args=[menu_set.pk, tab.pk]))
    assert image["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (2500, 1686)


def test_a_tab_is_added_from_a_standard_layout(client, broadcaster, menu_set):
    client.force_login(broadcaster)
    response = client.post(
        _designer(menu_set),
        {
            "action": "save-tab",
            "key": "kids",
            "title": "子育て",
            "chat_bar_text": "子育て",
            "layout": "compact-2",
            "area-0-kind": "text",
            "area-0-value-text": "保育園",
            "area-0-label": "保育園",
            "area-1-kind": "spots",
            "area-1-value-spots": "",
            "area-1-label": "近くの施設",
        },
    )

    assert response.status_code == 302
    with scopes_disabled():
        tab = RichMenuTab.objects.get(key="kids")
    assert tab.size == "compact"
    assert [a["bounds"]["width"] for a in tab.areas] == [1250, 1250]
    assert tab.areas[0]["value"] == "保育園"


def test_an_area_without_an_action_is_refused_with_the_reason(client, broadcaster, menu_set):
    client.force_login(broadcaster)
    response = client.post(
        _designer(menu_set),
        {
            "action": "save-tab",
            "key": "x",
            "title": "x",
            "chat_bar_text": "x",
            "layout": "compact-1",
            "area-0-kind": "procedure",
            "area-0-value-procedure": "nope",
        },
    )

    assert response.status_code == 400
    assert "エリア 1" in response.content.decode() or "Area 1" in response.content.decode()


def test_an_image_of_the_wrong_size_is_refused(client, broadcaster, menu_set):
    client.force_login(broadcaster)
    with scopes_disabled():
        tab = menu_set.tabs.get(key="safety")
    wrong = io.BytesIO(_png((2500, 1686)))
    wrong.name = "menu.png"
    response = client.post(_designer(menu_set), {"action": "upload", "tab": tab.pk, "image": wrong})

    assert response.status_code == 400
    right = io.BytesIO(_png((2500, 843)))
    right.name = "menu.png"
    response = client.post(_designer(menu_set), {"action": "upload", "tab": tab.pk, "image": right})
    assert response.status_code == 302
    with scopes_disabled():
        tab.refresh_from_db()
    assert not tab.image_generated


def test_publish_writes_a_pending_publication_once(
    client, broadcaster, menu_set, django_capture_on_commit_callbacks
):
    client.force_login(broadcaster)

    with django_capture_on_commit_callbacks() as sent:  # the task, not run here
        client.post(_designer(menu_set), {"action": "publish"})
        client.post(_designer(menu_set), {"action": "publish"})

    with scopes_disabled():
        publications = list(RichMenuPublication.objects.all())
    assert [p.status for p in publications] == [PublicationStatus.PENDING]
    assert len(sent) == 1


def test_a_reviewer_may_not_open_the_designer(client, reviewer, menu_set):
    client.force_login(reviewer)
    assert client.get(_designer(menu_set)).status_code in (403, 404)


def test_an_outsider_sees_no_menu_set(client, outsider, menu_set):
    client.force_login(outsider)
    with scopes_disabled():
        tab = menu_set.tabs.first()

    assert client.get(_designer(menu_set)).status_code == 404
    assert client.post(_designer(menu_set), {"action": "publish"}).status_code == 404
    image = reverse("admin:delivery_richmenuset_image", args=[menu_set.pk, tab.pk])
    assert client.get(image).status_code == 404
    change = reverse("admin:delivery_richmenuset_change", args=[menu_set.pk])
    assert client.get(change).status_code == 404
    assert (
        "基本メニュー"
        not in client.get(reverse("admin:delivery_richmenuset_changelist")).content.decode()
    )
