"""Verify connection and test-send against the simulator, through the console actions."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.models import Friend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_admin_verifies_the_connection_and_sends_a_test_message(client, admin_user, line_world):
    tester = line_world()
    tester.follow()
    tester.received()
    with scopes_disabled():
        Friend.objects.update(is_test=True)
    client.force_login(admin_user)
    url = reverse("admin:delivery_linechannel_changelist")
    channel = line_world.channel
    response = client.post(
        url, {"action": "verify_connection", "_selected_action": [channel.pk]}, follow=True
    )
    assert "デモ市公式LINE" in response.content.decode()
    client.post(url, {"action": "send_test_message", "_selected_action": [channel.pk]})
    assert [m["text"] for m in tester.received()] == [
        "これはデモ市公式LINEからのテストメッセージです。"
    ]
