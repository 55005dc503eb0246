"""The rich menu endpoints of the Messaging API, through line-bot-sdk's client
(``delivery.line_api.LineClient``): every call has a timeout and is retried on 429 and
5xx; other refusals raise LineApiError with LINE's message."""

from __future__ import annotations

from typing import Any

from linebot.v3.messaging import (
    CreateRichMenuAliasRequest,
    RichMenuBulkLinkRequest,
    RichMenuBulkUnlinkRequest,
    RichMenuRequest,
    UpdateRichMenuAliasRequest,
)

from delivery.line_api import TIMEOUT, LineClient, call_with_retries

BULK_MAX_USERS = 500  # LINE: link / unlink rich menus of at most 500 users per request


def rich_menu_create(client: LineClient, body: dict[str, Any]) -> str:
    request = RichMenuRequest.from_dict(body)
    created = call_with_retries(
        lambda: client.api.create_rich_menu(request, _request_timeout=TIMEOUT)
    )
    return created.rich_menu_id


def rich_menu_image_upload(client: LineClient, rich_menu_id: str, data: bytes, kind: str) -> None:
    call_with_retries(
        lambda: client.blob.set_rich_menu_image(
            rich_menu_id, data, _headers={"Content-Type": kind}, _request_timeout=TIMEOUT
        )
    )


def rich_menu_delete(client: LineClient, rich_menu_id: str) -> None:
    call_with_retries(lambda: client.api.delete_rich_menu(rich_menu_id, _request_timeout=TIMEOUT))


def aliases(client: LineClient) -> dict[str, str]:
    """{alias id: rich menu id} of the channel."""
    listed = call_with_retries(
        lambda: client.api.get_rich_menu_alias_list(_request_timeout=TIMEOUT)
    )
    return {a.rich_menu_alias_id: a.rich_menu_id for a in listed.aliases or []}


def alias_create(client: LineClient, alias_id: str, rich_menu_id: str) -> None:
    request = CreateRichMenuAliasRequest(rich_menu_alias_id=alias_id, rich_menu_id=rich_menu_id)
    call_with_retries(lambda: client.api.create_rich_menu_alias(request, _request_timeout=TIMEOUT))


def alias_update(client: LineClient, alias_id: str, rich_menu_id: str) -> None:
    request = UpdateRichMenuAliasRequest(rich_menu_id=rich_menu_id)
    call_with_retries(
        lambda: client.api.update_rich_menu_alias(alias_id, request, _request_timeout=TIMEOUT)
    )


def alias_delete(client: LineClient, alias_id: str) -> None:
    call_with_retries(lambda: client.api.delete_rich_menu_alias(alias_id, _request_timeout=TIMEOUT))


def default_set(client: LineClient, rich_menu_id: str) -> None:
    """Make ``rich_menu_id`` the channel's default; "" clears the default."""
    if rich_menu_id:
        call_with_retries(
            lambda: client.api.set_default_rich_menu(rich_menu_id, _request_timeout=TIMEOUT)
        )
    else:
        call_with_retries(lambda: client.api.cancel_default_rich_menu(_request_timeout=TIMEOUT))


def bulk_link(client: LineClient, rich_menu_id: str, user_ids: list[str]) -> None:
    """Link ``rich_menu_id`` to ≤ 500 users; "" unlinks their per-user menus instead."""
    if not 1 <= len(user_ids) <= BULK_MAX_USERS:
        raise ValueError(f"A bulk link names 1 to 500 users, not {len(user_ids)}.")
    if rich_menu_id:
        link = RichMenuBulkLinkRequest(richMenuId=rich_menu_id, userIds=user_ids)
        call_with_retries(
            lambda: client.api.link_rich_menu_id_to_users(link, _request_timeout=TIMEOUT)
        )
    else:
        unlink = RichMenuBulkUnlinkRequest(userIds=user_ids)
        call_with_retries(
            lambda: client.api.unlink_rich_menu_id_from_users(unlink, _request_timeout=TIMEOUT)
        )
