"""Rich menus through the real SDK, and what the chat page is told to show."""

from __future__ import annotations

import json

import pytest
from linebot.v3.messaging import (
    CreateRichMenuAliasRequest,
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuBulkLinkRequest,
    RichMenuRequest,
    RichMenuSize,
    RichMenuSwitchAction,
    UpdateRichMenuAliasRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from delivery.simulator import services
from tests.delivery.conftest import SIMULATOR_URLS, line_json, make_resident

pytestmark = [pytest.mark.urls(SIMULATOR_URLS), pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"menu image"


def menu_request(name: str, action) -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=2500, height=843),
        selected=True,
        name=name,
        chat_bar_text="メニュー",
        areas=[
            RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843), action=action)
        ],
    )


def create_menu(api, blob, name, action) -> str:
    rich_menu_id = api.create_rich_menu(menu_request(name, action)).rich_menu_id
    blob.set_rich_menu_image(rich_menu_id, PNG, _headers={"Content-Type": "image/png"})
    return rich_menu_id


def chat_state(client, sim_channel, user):
    return client.get(f"/simulator/api/chat/{sim_channel.channel_id}/{user.user_id}/").json()


def test_rich_menu_life_cycle_through_the_sdk(sim_channel, sim_resident, sim_messaging_api, client):
    with sim_messaging_api(sim_channel) as api, sim_messaging_api(sim_channel, blob=True) as blob:
        action = PostbackAction(label="申請", data="menu=apply", display_text="申請する")
        rich_menu_id = create_menu(api, blob, "main", action)
        fetched = api.get_rich_menu(rich_menu_id)
        listed = api.get_rich_menu_list()
        image = blob.get_rich_menu_image(rich_menu_id)
        api.set_default_rich_menu(rich_menu_id)
        default_id = api.get_default_rich_menu_id().rich_menu_id

        assert fetched.name == "main"
        assert fetched.areas[0].action.data == "menu=apply"
        assert [m.rich_menu_id for m in listed.richmenus] == [rich_menu_id]
        assert image == PNG
        assert default_id == rich_menu_id
        shown = chat_state(client, sim_channel, sim_resident)["rich_menu"]
        assert shown["richMenuId"] == rich_menu_id
        assert shown["areas"][0]["action"]["displayText"] == "申請する"
        assert client.get(shown["imageUrl"]).content == PNG

        api.delete_rich_menu(rich_menu_id)
        with pytest.raises(ApiException) as raised:
            api.get_rich_menu(rich_menu_id)

    assert raised.value.status == 404
    assert chat_state(client, sim_channel, sim_resident)["rich_menu"] is None


def test_a_menu_without_an_image_cannot_be_applied(sim_channel, sim_resident, sim_messaging_api):
    with sim_messaging_api(sim_channel) as api:
        rich_menu_id = api.create_rich_menu(
            menu_request("bare", PostbackAction(label="a", data="a"))
        ).rich_menu_id
        with pytest.raises(ApiException) as raised:
            api.link_rich_menu_id_to_user(sim_resident.user_id, rich_menu_id)

    assert raised.value.status == 400


def test_an_image_is_uploaded_once_only(sim_channel, sim_messaging_api):
    with sim_messaging_api(sim_channel) as api, sim_messaging_api(sim_channel, blob=True) as blob:
        rich_menu_id = create_menu(api, blob, "m", PostbackAction(label="a", data="a"))
        with pytest.raises(ApiException) as raised:
            blob.set_rich_menu_image(rich_menu_id, PNG, _headers={"Content-Type": "image/png"})

    assert raised.value.status == 400


def test_user_link_wins_over_default_and_unlink_restores_it(sim_channel, sim_messaging_api, client):
    alice, bob = make_resident(sim_channel, "A"), make_resident(sim_channel, "B")
    with sim_messaging_api(sim_channel) as api, sim_messaging_api(sim_channel, blob=True) as blob:
        default_id = create_menu(api, blob, "default", PostbackAction(label="a", data="a"))
        special_id = create_menu(api, blob, "special", PostbackAction(label="b", data="b"))
        api.set_default_rich_menu(default_id)
        api.link_rich_menu_id_to_users(
            RichMenuBulkLinkRequest(rich_menu_id=special_id, user_ids=[alice.user_id])
        )
        linked = api.get_rich_menu_id_of_user(alice.user_id).rich_menu_id

        assert linked == special_id
        assert chat_state(client, sim_channel, alice)["rich_menu"]["richMenuId"] == special_id
        assert chat_state(client, sim_channel, bob)["rich_menu"]["richMenuId"] == default_id

        api.unlink_rich_menu_id_from_user(alice.user_id)

    assert chat_state(client, sim_channel, alice)["rich_menu"]["richMenuId"] == default_id


def test_aliases_and_a_richmenuswitch_tap_change_the_users_menu(
    sim_channel, sim_resident, sim_messaging_api, client, sim_webhook
):
    with sim_messaging_api(sim_channel) as api, sim_messaging_api(sim_channel, blob=True) as blob:
        switch = RichMenuSwitchAction(label="B", rich_menu_alias_id="tab-b", data="tab=b")
        tab_a = create_menu(api, blob, "tab a", switch)
        tab_b = create_menu(api, blob, "tab b", PostbackAction(label="x", data="x"))
        api.create_rich_menu_alias(
            CreateRichMenuAliasRequest(rich_menu_alias_id="tab-a", rich_menu_id=tab_a)
        )
        api.create_rich_menu_alias(
            CreateRichMenuAliasRequest(rich_menu_alias_id="tab-b", rich_menu_id=tab_a)
        )
        api.update_rich_menu_alias("tab-b", UpdateRichMenuAliasRequest(rich_menu_id=tab_b))
        aliases = api.get_rich_menu_alias_list().aliases
        api.set_default_rich_menu(tab_a)
        with pytest.raises(ApiException) as duplicate:
            api.create_rich_menu_alias(
                CreateRichMenuAliasRequest(rich_menu_alias_id="tab-a", rich_menu_id=tab_b)
            )

    assert duplicate.value.status == 400
    assert {(a.rich_menu_alias_id, a.rich_menu_id) for a in aliases} == {
        ("tab-a", tab_a),
        ("tab-b", tab_b),
    }
    response = client.post(
        "/simulator/api/say/",
        {
            "channel_id": sim_channel.channel_id,
            "user_id": sim_resident.user_id,
            "richmenuswitch": {"richMenuAliasId": "tab-b", "data": "tab=b"},
        },
        content_type="application/json",
    )

    assert response.status_code == 200
    event = json.loads(sim_webhook.last["body"])["events"][0]
    assert event["type"] == "postback"
    assert event["postback"] == {
        "data": "tab=b",
        "params": {"newRichMenuAliasId": "tab-b", "status": "SUCCESS"},
    }
    assert chat_state(client, sim_channel, sim_resident)["rich_menu"]["richMenuId"] == tab_b


def test_invalid_rich_menu_is_refused_with_located_errors(sim_channel, client):
    body = {
        "size": {"width": 2500, "height": 843},
        "selected": False,
        "name": "m",
        "chatBarText": "十四文字を超えるチャットバーのテキスト",
        "areas": [
            {"bounds": {"x": 0, "y": 0, "width": 10, "height": 10}, "action": {"type": "postback"}},
        ],
    }
    response = client.post(
        "/simulator/api/line/v2/bot/richmenu",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sim_channel.channel_access_token}",
    )

    assert response.status_code == 400
    assert [d["property"] for d in line_json(response)["details"]] == [
        "chatBarText",
        "areas[0].action.data",
    ]


def test_another_channels_rich_menu_is_not_found(sim_channel, sim_other_channel, sim_messaging_api):
    with sim_messaging_api(sim_channel) as api, sim_messaging_api(sim_channel, blob=True) as blob:
        rich_menu_id = create_menu(api, blob, "mine", PostbackAction(label="a", data="a"))
    with sim_messaging_api(sim_other_channel) as api, pytest.raises(ApiException) as raised:
        api.set_default_rich_menu(rich_menu_id)

    assert raised.value.status == 404
    services.simulator_channel_configure(channel=sim_other_channel)
    sim_other_channel.refresh_from_db()
    assert sim_other_channel.default_rich_menu is None
