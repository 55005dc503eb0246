"""The chat page and the JSON API that tests, scripts and the page itself use."""

from __future__ import annotations

import pytest

from delivery.simulator import services
from tests.delivery.conftest import SIMULATOR_URLS, make_resident

pytestmark = [pytest.mark.urls(SIMULATOR_URLS), pytest.mark.django_db]


def test_chat_page_lists_channels_and_residents_with_testable_controls(
    client, sim_channel, sim_resident
):
    response = client.get("/simulator/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "デモ市 公式" in html
    assert sim_resident.display_name in html
    for testid in (
        "channel-select",
        "user-select",
        "text-input",
        "send-button",
        "message-list",
        "quick-reply-bar",
        "richmenu",
        "datetime-dialog",
        "location-dialog",
        "camera-button",
    ):
        assert f'data-testid="{testid}"' in html
    assert "simulator/chat.js" in html


def test_channels_api_lists_every_channel(client, sim_channel, sim_other_channel):
    assert client.get("/simulator/api/channels/").json() == [
        {"channel_id": "2000000001", "municipality": "demo-city", "name": "デモ市 公式"},
        {"channel_id": "2000000999", "municipality": "other-town", "name": "よそ町 公式"},
    ]


def test_users_api_creates_a_resident_with_a_line_user_id(client, db):
    response = client.post(
        "/simulator/api/users/",
        {"display_name": "John", "language": "en"},
        content_type="application/json",
    )
    refused = client.post(
        "/simulator/api/users/", {"display_name": ""}, content_type="application/json"
    )

    assert response.status_code == 201
    user = response.json()
    assert user["user_id"].startswith("U") and len(user["user_id"]) == 33
    assert user["language"] == "en"
    assert refused.status_code == 400
    assert [u["user_id"] for u in client.get("/simulator/api/users/").json()] == [user["user_id"]]


def test_transcript_filters_by_channel_and_never_mixes_chats(
    client, sim_channel, sim_other_channel
):
    sim_resident = make_resident(sim_channel)
    services.simulator_friendship_ensure(channel=sim_other_channel, user=sim_resident)
    services.simulator_say(channel=sim_channel, user=sim_resident, text="デモ市へ")
    services.simulator_say(channel=sim_other_channel, user=sim_resident, text="よそ町へ")
    someone_else = make_resident(sim_channel, "他人")
    services.simulator_say(channel=sim_channel, user=someone_else, text="別の人")

    url = f"/simulator/api/transcript/{sim_resident.user_id}/"
    every = client.get(url).json()
    only_demo = client.get(url, {"channel_id": sim_channel.channel_id}).json()

    assert [e["message"]["message"]["text"] for e in every] == ["デモ市へ", "よそ町へ"]
    assert [e["message"]["message"]["text"] for e in only_demo] == ["デモ市へ"]
    assert only_demo[0]["direction"] == "in"
    assert set(only_demo[0]) >= {"id", "direction", "at", "message"}
    assert client.get("/simulator/api/transcript/U" + "0" * 32 + "/").json() == []


def test_chat_state_gives_new_entries_friendship_and_display_text(
    client, sim_channel, sim_resident
):
    first = services.simulator_say(
        channel=sim_channel,
        user=sim_resident,
        postback={"data": "answer=yes"},
        display_text="はい",
    )
    services.simulator_messages_deliver(
        channel=sim_channel,
        users=[sim_resident],
        messages=[{"type": "text", "text": "了解です"}],
        request_id="r-1",
    )
    url = f"/simulator/api/chat/{sim_channel.channel_id}/{sim_resident.user_id}/"

    state = client.get(url).json()
    later = client.get(url, {"after": first.entry.id}).json()

    assert [e["direction"] for e in state["entries"]] == ["in", "out"]
    assert state["entries"][0]["display_text"] == "はい"
    assert state["friendship"] == "friend"
    assert state["loading"] is False
    assert state["rich_menu"] is None
    assert [e["message"] for e in later["entries"]] == [{"type": "text", "text": "了解です"}]


def test_chat_state_of_an_unknown_channel_or_user_is_404(client, sim_channel, sim_resident):
    assert client.get(f"/simulator/api/chat/404/{sim_resident.user_id}/").status_code == 404
    assert (
        client.get(f"/simulator/api/chat/{sim_channel.channel_id}/U{'0' * 32}/").status_code == 404
    )
