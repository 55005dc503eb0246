"""Console pages of delivery: the LINE channel (secrets write-only) and friends."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.models import LineChannel
from delivery.services import line_channel_create
from govtech.models import AuditLogEntry
from tests.factories import line_friend

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(city):
    return line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id="1650000000",
        channel_secret="very-secret-value",
        access_token="very-secret-token",
    )


@pytest.fixture
def friend(city, channel):
    return line_friend(channel, "U" + "c" * 32, display_name="山田花子")


def test_channel_page_shows_the_webhook_url_but_never_the_secrets(client, admin_user, channel):
    client.force_login(admin_user)
    body = client.get(
        reverse("admin:delivery_linechannel_change", args=[channel.pk])
    ).content.decode()
    assert "/line/webhook/1650000000/" in body
    assert "very-secret-value" not in body and "very-secret-token" not in body


def test_saving_without_retyping_secrets_keeps_them(client, admin_user, channel):
    client.force_login(admin_user)
    url = reverse("admin:delivery_linechannel_change", args=[channel.pk])
    response = client.post(
        url,
        {"name": "デモ市公式", "channel_id": "1650000000", "mode": "active", "welcome_message": ""},
    )
    assert response.status_code == 302
    with scopes_disabled():
        saved = LineChannel.objects.get(pk=channel.pk)
    assert saved.name == "デモ市公式"
    assert saved.channel_secret == "very-secret-value"


def test_secrets_are_encrypted_in_the_database(channel):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT channel_secret, access_token FROM delivery_linechannel")
        secret, token = cursor.fetchone()
    assert "very-secret" not in secret and "very-secret" not in token


@pytest.mark.parametrize("viewer", ["designer", "reviewer"])
def test_designers_and_reviewers_do_not_see_channels_or_friends(
    client, request, viewer, channel, friend
):
    client.force_login(request.getfixturevalue(viewer))
    assert client.get(reverse("admin:delivery_linechannel_changelist")).status_code == 403
    assert client.get(reverse("admin:delivery_friend_changelist")).status_code == 403


def test_outsider_gets_404_for_the_citys_channel_and_friend(client, outsider, channel, friend):
    client.force_login(outsider)
    assert (
        client.get(reverse("admin:delivery_linechannel_change", args=[channel.pk])).status_code
        == 404
    )
    assert client.get(reverse("admin:delivery_friend_change", args=[friend.pk])).status_code == 404
    assert (
        "山田花子" not in client.get(reverse("admin:delivery_friend_changelist")).content.decode()
    )


def test_viewing_a_friend_is_audited(client, broadcaster, friend, city):
    client.force_login(broadcaster)
    body = client.get(reverse("admin:delivery_friend_change", args=[friend.pk])).content.decode()
    assert "山田花子" in body
    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="delivery.friend.viewed")
    assert entry.actor == broadcaster and entry.municipality == city


def test_a_channel_id_another_municipality_uses_is_a_form_error_that_names_no_one(
    client, outsider, channel
):
    client.force_login(outsider)
    response = client.post(
        reverse("admin:delivery_linechannel_add"),
        {
            "name": "アザー町",
            "channel_id": "1650000000",
            "channel_secret": "other-secret",
            "access_token": "other-token",
            "mode": "active",
            "welcome_message": "",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["channel_id"]
    assert "登録できません" in errors[0] and "デモ市" not in response.content.decode()
    with scopes_disabled():
        assert LineChannel.objects.count() == 1
