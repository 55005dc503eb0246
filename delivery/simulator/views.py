"""The chat page and the simulator's JSON API for tests, scripts and the page itself.

CSRF: the JSON API is exempt. It exists only where the simulator is enabled (local,
test, demo; never production), carries no session-based authority, and its callers are
pytest, shell scripts and the chat page's ``fetch``; see docs/decisions/0003.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery.simulator import selectors, services
from delivery.simulator.models import (
    SimulatorChannel,
    SimulatorRichMenu,
    SimulatorTranscriptEntry,
    SimulatorUser,
    new_line_user_id,
)

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
SAY_KINDS = ("text", "postback", "location", "image", "follow", "unfollow", "richmenuswitch")


class BadInput(Exception):
    """The JSON API's 400, with a message for the caller."""


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadInput("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise BadInput("The body must be a JSON object.")
    return body


def _channel_or_404(channel_id: str) -> SimulatorChannel:
    channel = selectors.channel_by_id(channel_id=channel_id)
    if channel is None:
        raise Http404("No such channel")
    return channel


def entry_json(entry: SimulatorTranscriptEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "direction": entry.direction,
        "at": entry.at.isoformat(),
        "channel_id": entry.channel.channel_id,
        "message": entry.message,
        "display_text": entry.display_text,
    }


def user_json(user: SimulatorUser) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "display_name": user.display_name,
        "language": user.language,
        "picture_url": user.picture_url,
    }


def channel_json(channel: SimulatorChannel) -> dict[str, Any]:
    return {
        "channel_id": channel.channel_id,
        "municipality": channel.municipality,
        "name": channel.name,
    }


def rich_menu_json(rich_menu: SimulatorRichMenu) -> dict[str, Any]:
    image_url = reverse("simulator:richmenu-image", args=[rich_menu.rich_menu_id])
    return {"richMenuId": rich_menu.rich_menu_id, **rich_menu.body, "imageUrl": image_url}


# --- the page ----------------------------------------------------------------------


SIMULATOR_LANGUAGES = [
    ("ja", "日本語"),
    ("en", "English"),
    ("zh-Hans", "简体中文"),
    ("zh-Hant", "繁體中文"),
    ("ko", "한국어"),
    ("vi", "Tiếng Việt"),
    ("pt-BR", "Português (Brasil)"),
    ("es", "Español"),
    ("id", "Bahasa Indonesia"),
    ("th", "ไทย"),
]


@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    context = {
        "channels": [channel_json(c) for c in selectors.channels_all()],
        "users": [user_json(u) for u in selectors.users_all()],
        # As LINE's app would show them: each language in itself.
        "languages": SIMULATOR_LANGUAGES,
    }
    return render(request, "simulator/chat.html", context)


@require_GET
def rich_menu_image(request: HttpRequest, rich_menu_id: str) -> HttpResponse:
    rich_menu = SimulatorRichMenu.objects.filter(rich_menu_id=rich_menu_id).first()
    if rich_menu is None or rich_menu.image is None:
        raise Http404("No image")
    return HttpResponse(bytes(rich_menu.image), content_type=rich_menu.image_content_type)


@require_GET
def content(request: HttpRequest, message_id: str) -> HttpResponse:
    upload = selectors.message_content_any(message_id=message_id)
    if upload is None:
        raise Http404("No content")
    return HttpResponse(bytes(upload.data), content_type=upload.content_type)


# --- JSON API ------------------------------------------------------------------------


@require_GET
def channels(request: HttpRequest) -> JsonResponse:
    return JsonResponse([channel_json(c) for c in selectors.channels_all()], safe=False)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> JsonResponse:
    """GET: every resident. POST ``{"display_name", "language"?}``: a new resident (201)."""
    if request.method == "GET":
        return JsonResponse([user_json(u) for u in selectors.users_all()], safe=False)
    try:
        body = _json(request)
    except BadInput as bad:
        return error(str(bad))
    name = str(body.get("display_name") or "").strip()
    language = body.get("language") or SimulatorUser.Language.JA
    if not name or language not in SimulatorUser.Language.values:
        languages = ", ".join(SimulatorUser.Language.values)
        return error(f"display_name is required and language must be one of {languages}.")
    user = services.simulator_user_create(display_name=name[:100], language=language)
    return JsonResponse(user_json(user), status=201)


@require_GET
def transcript(request: HttpRequest, user_id: str) -> JsonResponse:
    """The resident's messages both ways, in order; ``?channel_id=`` and ``?after=<id>``."""
    user = selectors.user_by_id(user_id=user_id)
    if user is None:
        return JsonResponse([], safe=False)
    channel = None
    if request.GET.get("channel_id"):
        channel = _channel_or_404(request.GET["channel_id"])
    after = request.GET.get("after")
    if after is not None and not after.isdigit():
        return error("after must be an entry id.")
    entries = selectors.transcript_for(
        user=user, channel=channel, after=int(after) if after else None
    )
    return JsonResponse([entry_json(e) for e in entries], safe=False)


@require_GET
def chat_state(request: HttpRequest, channel_id: str, user_id: str) -> JsonResponse:
    """What the chat page polls: new entries after ``?after=``, friendship, dots, menu."""
    channel = _channel_or_404(channel_id)
    user = selectors.user_by_id(user_id=user_id)
    if user is None:
        raise Http404("No such user")
    after = request.GET.get("after", "")
    entries = selectors.transcript_for(
        user=user, channel=channel, after=int(after) if after.isdigit() else None
    )
    friendship = selectors.friendship_for(channel=channel, user=user)
    rich_menu = selectors.rich_menu_shown_to(channel=channel, user=user)
    loading = bool(
        friendship and friendship.loading_until and friendship.loading_until > timezone.now()
    )
    return JsonResponse(
        {
            "entries": [entry_json(e) for e in entries],
            "friendship": friendship.status if friendship else None,
            "loading": loading,
            "rich_menu": rich_menu_json(rich_menu) if rich_menu else None,
            "user": user_json(user),
            "channel": channel_json(channel),
        }
    )


def _say_user(body: dict[str, Any]) -> SimulatorUser:
    user_id = body.get("user_id") or new_line_user_id()
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise BadInput("user_id must be U followed by 32 lowercase hex digits.")
    language = (
        body.get("language") if body.get("language") in SimulatorUser.Language.values else "ja"
    )
    return services.simulator_user_get_or_create(
        user_id=user_id, display_name=str(body.get("display_name") or "")[:100], language=language
    )


def _decode_image(raw: Any) -> bytes:
    if not isinstance(raw, str):
        raise BadInput("image must be base64 text.")
    try:
        return base64.b64decode(
            raw.split(",", 1)[-1] if raw.startswith("data:") else raw, validate=True
        )
    except (binascii.Error, ValueError):
        raise BadInput("image must be base64 text.") from None


def _say_inputs(body: dict[str, Any]) -> dict[str, Any]:
    """The one input in ``body``, shaped for ``simulator_say``."""
    given = [kind for kind in SAY_KINDS if body.get(kind) not in (None, False)]
    if len(given) != 1:
        raise BadInput(f"Give exactly one of: {', '.join(SAY_KINDS)}.")
    kind, value = given[0], body[given[0]]
    if kind == "text" and (not isinstance(value, str) or not value):
        raise BadInput("text must be a non-empty string.")
    if kind == "postback" and not (isinstance(value, dict) and isinstance(value.get("data"), str)):
        raise BadInput('postback must be {"data": "...", "params": {...}}.')
    if kind == "location":
        return {"location": _location(value)}
    if kind == "image":
        return {"image": _decode_image(value)}
    if kind == "richmenuswitch" and not (isinstance(value, dict) and value.get("richMenuAliasId")):
        raise BadInput('richmenuswitch must be {"richMenuAliasId": "...", "data": "..."}.')
    if kind in ("follow", "unfollow"):
        return {kind: True}
    return {kind: value}


def _location(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput("location must be an object.")
    try:
        latitude, longitude = float(value["latitude"]), float(value["longitude"])
    except (KeyError, TypeError, ValueError):
        raise BadInput("location needs numeric latitude and longitude.") from None
    return {
        "latitude": latitude,
        "longitude": longitude,
        "address": str(value.get("address") or ""),
        "title": str(value.get("title") or ""),
    }


@csrf_exempt
@require_POST
def say(request: HttpRequest) -> JsonResponse:
    """A resident sends something: ``{"channel_id", "user_id"?, one input}``.

    Answers ``{"id", "user_id", "event", "webhook_status", "webhook_error"}``; an unknown
    ``user_id`` creates the resident, a missing one creates a new resident.
    """
    try:
        body = _json(request)
        channel = _channel_or_404(str(body.get("channel_id") or ""))
        inputs = _say_inputs(body)
        user = _say_user(body)
    except BadInput as bad:
        return error(str(bad))
    try:
        if "richmenuswitch" in inputs:
            switch = inputs["richmenuswitch"]
            result = services.simulator_rich_menu_switch(
                channel=channel,
                user=user,
                alias_id=str(switch["richMenuAliasId"]),
                data=str(switch.get("data") or ""),
            )
        else:
            display_text = str(body.get("display_text") or "") if "postback" in inputs else ""
            result = services.simulator_say(
                channel=channel, user=user, display_text=display_text, **inputs
            )
    except services.SimulatorInputRefused as refused:
        return error(str(refused), status=409)
    webhook = result.webhook
    return JsonResponse(
        {
            "id": result.entry.id,
            "user_id": user.user_id,
            "event": result.event,
            "webhook_status": webhook.status if webhook else None,
            "webhook_error": webhook.error if webhook else "webhook is off",
        }
    )
