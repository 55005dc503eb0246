"""The emulated rich menu endpoints (the rich menu half of ``api``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from delivery.simulator import richmenu_services as menus
from delivery.simulator import selectors
from delivery.simulator.api import (
    LineApiError,
    json_body,
    line_endpoint,
    not_found,
    ok,
    validation_error,
)
from delivery.simulator.models import SimulatorChannel, SimulatorRichMenu, SimulatorUser
from delivery.simulator.validation import Errors, check_list

MAX_RICH_MENUS = 1000


def rich_menu_json(rich_menu: SimulatorRichMenu) -> dict[str, Any]:
    return {"richMenuId": rich_menu.rich_menu_id, **rich_menu.body}


def _menu_or_404(channel: SimulatorChannel, rich_menu_id: str) -> SimulatorRichMenu:
    rich_menu = selectors.rich_menu_by_id(channel=channel, rich_menu_id=rich_menu_id)
    if rich_menu is None:
        raise not_found()
    return rich_menu


def _user_or_400(user_id: str) -> SimulatorUser:
    user = selectors.user_by_id(user_id=user_id)
    if user is None:
        raise LineApiError(400, f"The user ID, {user_id}, is invalid")
    return user


def _refused(error: menus.RichMenuError) -> LineApiError:
    return LineApiError(400, str(error))


def _checked_menu_body(request: HttpRequest) -> dict[str, Any]:
    body = json_body(request)
    errors = menus.rich_menu_errors(body)
    if errors:
        raise validation_error(errors)
    return body


@line_endpoint("richmenu_write")
def rich_menu_create(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = _checked_menu_body(request)
    if selectors.rich_menus_of(channel=channel).count() >= MAX_RICH_MENUS:
        raise LineApiError(400, "The maximum number of rich menus has been reached")
    rich_menu = menus.rich_menu_create(channel=channel, body=body)
    return ok({"richMenuId": rich_menu.rich_menu_id})


@line_endpoint("default")
def rich_menu_validate(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    _checked_menu_body(request)
    return ok()


@line_endpoint("default", methods=("GET",))
def rich_menu_list(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    return ok({"richmenus": [rich_menu_json(m) for m in selectors.rich_menus_of(channel=channel)]})


@line_endpoint("richmenu_write", methods=("GET", "DELETE"))
def rich_menu_detail(
    request: HttpRequest, channel: SimulatorChannel, rich_menu_id: str
) -> HttpResponse:
    rich_menu = _menu_or_404(channel, rich_menu_id)
    if request.method == "DELETE":
        menus.rich_menu_delete(rich_menu=rich_menu)
        return ok()
    return ok(rich_menu_json(rich_menu))


@line_endpoint("default", methods=("GET", "POST"))
def rich_menu_content(
    request: HttpRequest, channel: SimulatorChannel, rich_menu_id: str
) -> HttpResponse:
    rich_menu = _menu_or_404(channel, rich_menu_id)
    if request.method == "GET":
        if rich_menu.image is None:
            raise not_found()
        return HttpResponse(bytes(rich_menu.image), content_type=rich_menu.image_content_type)
    content_type = request.content_type or ""
    try:
        menus.rich_menu_image_upload(
            rich_menu=rich_menu, data=request.body, content_type=content_type
        )
    except menus.RichMenuError as error:
        raise _refused(error) from None
    return ok()


@line_endpoint("default", methods=("GET", "DELETE"))
def default_rich_menu(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    if request.method == "DELETE":
        menus.rich_menu_set_default(channel=channel, rich_menu=None)
        return ok()
    if channel.default_rich_menu is None:
        raise not_found()
    return ok({"richMenuId": channel.default_rich_menu.rich_menu_id})


@line_endpoint("default")
def default_rich_menu_set(
    request: HttpRequest, channel: SimulatorChannel, rich_menu_id: str
) -> HttpResponse:
    rich_menu = _menu_or_404(channel, rich_menu_id)
    try:
        menus.rich_menu_set_default(channel=channel, rich_menu=rich_menu)
    except menus.RichMenuError as error:
        raise _refused(error) from None
    return ok()


@line_endpoint("default")
def user_rich_menu_link(
    request: HttpRequest, channel: SimulatorChannel, user_id: str, rich_menu_id: str
) -> HttpResponse:
    rich_menu = _menu_or_404(channel, rich_menu_id)
    try:
        menus.rich_menu_link(channel=channel, users=[_user_or_400(user_id)], rich_menu=rich_menu)
    except menus.RichMenuError as error:
        raise _refused(error) from None
    return ok()


@line_endpoint("default", methods=("GET", "DELETE"))
def user_rich_menu(request: HttpRequest, channel: SimulatorChannel, user_id: str) -> HttpResponse:
    user = _user_or_400(user_id)
    if request.method == "DELETE":
        menus.rich_menu_unlink(channel=channel, users=[user])
        return ok()
    rich_menu = selectors.rich_menu_linked_to(channel=channel, user=user)
    if rich_menu is None:
        raise not_found()
    return ok({"richMenuId": rich_menu.rich_menu_id})


def _bulk_users(body: dict[str, Any]) -> list[SimulatorUser]:
    errors = Errors()
    check_list(errors, body.get("userIds"), "userIds", 1, 500)
    if errors:
        raise validation_error(errors)
    return selectors.users_by_ids(user_ids=[str(user_id) for user_id in body["userIds"]])


@line_endpoint("bulk_link")
def bulk_link(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    users = _bulk_users(body)
    rich_menu = _menu_or_404(channel, str(body.get("richMenuId", "")))
    try:
        menus.rich_menu_link(channel=channel, users=users, rich_menu=rich_menu)
    except menus.RichMenuError as error:
        raise _refused(error) from None
    return ok(status=202)


@line_endpoint("bulk_link")
def bulk_unlink(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    menus.rich_menu_unlink(channel=channel, users=_bulk_users(json_body(request)))
    return ok(status=202)


@line_endpoint("default")
def alias_create(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    rich_menu = _menu_or_404(channel, str(body.get("richMenuId", "")))
    try:
        menus.rich_menu_alias_create(
            channel=channel, alias_id=str(body.get("richMenuAliasId", "")), rich_menu=rich_menu
        )
    except menus.RichMenuError as error:
        raise _refused(error) from None
    return ok()


@line_endpoint("default", methods=("GET",))
def alias_list(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    aliases = selectors.rich_menu_aliases_of(channel=channel)
    return ok(
        {
            "aliases": [
                {"richMenuAliasId": a.alias_id, "richMenuId": a.rich_menu.rich_menu_id}
                for a in aliases
            ]
        }
    )


@line_endpoint("default", methods=("GET", "POST", "DELETE"))
def alias_detail(request: HttpRequest, channel: SimulatorChannel, alias_id: str) -> HttpResponse:
    alias = selectors.rich_menu_alias(channel=channel, alias_id=alias_id)
    if alias is None:
        raise not_found()
    if request.method == "DELETE":
        menus.rich_menu_alias_delete(alias=alias)
        return ok()
    if request.method == "POST":
        rich_menu = _menu_or_404(channel, str(json_body(request).get("richMenuId", "")))
        try:
            menus.rich_menu_alias_update(alias=alias, rich_menu=rich_menu)
        except menus.RichMenuError as error:
            raise _refused(error) from None
        return ok()
    return ok({"richMenuAliasId": alias.alias_id, "richMenuId": alias.rich_menu.rich_menu_id})
