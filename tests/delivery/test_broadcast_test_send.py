"""Test sends go to the staff member's own test resident only; without one, nothing is
sent and the page says how to get one. Another municipality sees none of it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import StaffTestResident
from delivery.broadcasts.testers import (
    staff_test_friends,
    staff_test_resident_link,
    trial_line_user_id,
)
from delivery.models import Friend, OutboundMessage
from govtech.models import AuditLogEntry
from govtech.services import ServiceError
from tests.delivery.broadcast_world import make_friends, received
from tests.factories import line_friend, staff_member

ITEMS = [{"type": "text", "text": "{display_name}さん、粗大ごみの受付が始まりました"}]


def _friend(channel, line_user_id: str, *, is_test: bool = True, name: str = "") -> Friend:
    return line_friend(channel, line_user_id, display_name=name, is_test=is_test)


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_only_my_own_test_residents_are_mine(channel, city, broadcaster):
    colleague = staff_member(city, "broadcaster")
    mine = _friend(channel, trial_line_user_id(user=broadcaster))
    _friend(channel, trial_line_user_id(user=colleague))
    phone = _friend(channel, "U" + "a" * 32, is_test=False)
    _friend(channel, "U" + "b" * 32)  # somebody's test account, linked to no one
    _friend(channel, "U" + "c" * 32, is_test=False)  # a resident

    staff_test_resident_link(actor=None, staff=broadcaster, friend=phone)

    assert staff_test_friends(user=broadcaster, channel=channel) == [mine, phone]
    with scopes_disabled():
        assert Friend.objects.get(pk=phone.pk).is_test  # linking makes it a test account


def test_a_friend_is_the_test_resident_of_one_staff_member(channel, city, broadcaster):
    colleague = staff_member(city, "broadcaster")
    phone = _friend(channel, "U" + "a" * 32)
    staff_test_resident_link(actor=None, staff=broadcaster, friend=phone)

    with pytest.raises(ServiceError):
        staff_test_resident_link(actor=None, staff=colleague, friend=phone)
    assert staff_test_friends(user=colleague, channel=channel) == []


def test_an_unfollowed_test_resident_gets_nothing(channel, broadcaster):
    mine = _friend(channel, trial_line_user_id(user=broadcaster))
    with scopes_disabled():
        Friend.objects.filter(pk=mine.pk).update(is_following=False)
    assert staff_test_friends(user=broadcaster, channel=channel) == []


def test_without_a_test_resident_nothing_is_sent_and_the_page_says_how(
    client, channel, broadcaster
):
    _friend(channel, trial_line_user_id(user=staff_member(channel.municipality, "admin")))
    broadcast = broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="お知らせ", items=ITEMS
    )
    client.force_login(broadcaster)
    response = client.post(
        reverse("admin:delivery_broadcast_changelist"),
        {"action": "test_send", "_selected_action": [broadcast.pk]},
    )

    text = " ".join(_messages(response))
    assert "テスト住民" in text and "LINE シミュレーター" in text
    with scopes_disabled():
        assert not OutboundMessage.objects.exists()
        assert not AuditLogEntry.objects.filter(action="delivery.broadcast.test_sent").exists()


def test_the_broadcast_page_lists_my_test_resident_per_channel(client, channel, broadcaster):
    _friend(channel, trial_line_user_id(user=broadcaster), name="テスト住民（私）")
    client.force_login(broadcaster)
    html = client.get(reverse("admin:delivery_broadcast_add")).content.decode()

    assert "テスト住民（私）" in html
    assert 'data-testid="no-test-resident"' not in html


def test_an_admin_links_a_staff_members_phone_in_the_console(client, channel, city, admin_user):
    broadcaster = staff_member(city, "broadcaster")
    phone = _friend(channel, "U" + "a" * 32, is_test=False, name="職員のスマホ")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:delivery_stafftestresident_add"),
        {"municipality": city.pk, "staff": broadcaster.pk, "friend": phone.pk},
    )

    assert response.status_code == 302
    assert staff_test_friends(user=broadcaster, channel=channel) == [phone]
    with scopes_disabled():
        assert AuditLogEntry.objects.filter(action="delivery.stafftestresident.linked").exists()


def test_a_broadcaster_cannot_link_test_residents(client, channel, city, broadcaster):
    phone = _friend(channel, "U" + "a" * 32, is_test=False)
    client.force_login(broadcaster)
    response = client.post(
        reverse("admin:delivery_stafftestresident_add"),
        {"municipality": city.pk, "staff": broadcaster.pk, "friend": phone.pk},
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert not StaffTestResident.objects.exists()


def test_an_outsider_sees_no_test_residents_and_cannot_create_one(
    client, channel, broadcaster, outsider
):
    phone = _friend(channel, "U" + "a" * 32)
    link = staff_test_resident_link(actor=None, staff=broadcaster, friend=phone)
    client.force_login(outsider)

    listing = client.get(reverse("admin:delivery_stafftestresident_changelist"))
    assert listing.status_code == 200 and "U" + "a" * 32 not in listing.content.decode()
    detail = client.get(reverse("admin:delivery_stafftestresident_change", args=[link.pk]))
    assert detail.status_code == 404
    created = client.post(
        reverse("admin:delivery_broadcast_test_resident"), {"channel": channel.pk}
    )
    assert created.status_code == 404


@pytest.mark.slow
def test_save_and_send_a_test_reaches_only_my_own_test_resident(client, line_world, city):
    channel = line_world.channel
    author = staff_member(city, "broadcaster")
    colleague = staff_member(city, "broadcaster")
    residents = make_friends(channel, "r", 2)
    for staff in (author, colleague):
        client.force_login(staff)
        answer = client.post(
            reverse("admin:delivery_broadcast_test_resident"),
            {"channel": channel.pk, "next": "/admin/delivery/broadcast/add/"},
        )
        assert answer.url == "/admin/delivery/broadcast/add/"
    broadcast = broadcasts.broadcast_create(
        actor=author, channel=channel, title="粗大ごみ", items=ITEMS
    )

    client.force_login(author)
    response = client.post(
        reverse("admin:delivery_broadcast_change", args=[broadcast.pk]),
        {
            "municipality": city.pk,
            "channel": channel.pk,
            "title": "粗大ごみ",
            "messages": '[{"type": "text", "text": "{display_name}さん、受付が始まりました"}]',
            "_test_send": "1",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:delivery_broadcast_change", args=[broadcast.pk])
    mine, theirs = trial_line_user_id(user=author), trial_line_user_id(user=colleague)
    assert received([mine, theirs, *residents]) == {
        mine: 1,
        theirs: 0,
        **dict.fromkeys(residents, 0),
    }
    assert any("テスト" in text for text in _messages(response))
    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="delivery.broadcast.test_sent")
        assert entry.data["friends"] == [Friend.objects.get(line_user_id=mine).pk]
