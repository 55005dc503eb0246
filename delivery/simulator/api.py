"""The emulated Messaging API: what ``line-bot-sdk`` talks to when pointed at the simulator.

Every view goes through ``line_endpoint``, which does what LINE does around each call:
a fresh ``X-Line-Request-Id`` on every response, Bearer authentication against the
channel access token (401 otherwise), the per-channel rate limit of the endpoint's
family (429), JSON parsing (400), and a row in the API call log. Errors are LINE's JSON
bodies. The SDK's paths arrive under ``/simulator/api/line/`` (``LINE_API_BASE_URL``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from functools import partial, wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from delivery.simulator import selectors, services
from delivery.simulator.models import SimulatorChannel, SimulatorUser
from delivery.simulator.validation import Errors, check_list, validate_messages

AUTH_FAILED = (
    "Authentication failed due to the following reason: invalid token. "
    "Confirm that the access token in the authorization header is valid."
)
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT = "You have reached your monthly limit."
logger = logging.getLogger(__name__)
RETRY_KEY_ENDPOINTS = {"push", "multicast", "narrowcast", "broadcast"}
LEAN_ENDPOINTS = {"multicast"}


class LineApiError(Exception):
    """An error answer in LINE's format: ``{"message", "details"?}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {"message": message}
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def not_found() -> LineApiError:
    return LineApiError(404, "Not found")


def validation_error(errors: Errors) -> LineApiError:
    return LineApiError(400, errors.body()["message"], body=errors.body())


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or LINE's 400 for a body that is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line, column = getattr(error, "lineno", 1), getattr(error, "colno", 1)
        message = f"The request body could not be parsed as JSON (line: {line}, column: {column})"
        raise LineApiError(400, message) from None
    if not isinstance(body, dict):
        raise LineApiError(400, "The request body could not be parsed as JSON (line: 1, column: 1)")
    return body


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _check_retry_key_header(request: HttpRequest, family: str) -> None:
    if "X-Line-Retry-Key" in request.headers and family not in RETRY_KEY_ENDPOINTS:
        raise LineApiError(400, "X-Line-Retry-Key is not supported for this API")


def line_endpoint(family: str, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Wrap a view ``view(request, channel, *args)`` that returns a response or raises
    ``LineApiError``; the view may set ``request.line_quota_consumed``.

    A read (GET) writes nothing before it answers: its rate limit is checked by reading
    the window's count, and the count and the call log are written once the server has
    sent the answer. A product fetching a profile or a photo then never waits for the
    emulator's bookkeeping, nor fails because of it (docs/decisions/0009). A write
    counts its slot first, on its own, so that two requests cannot both take the last
    one (and no counter row stays locked while it delivers); its effect and its log
    entry are then one transaction: one more turn at SQLite's write lock, not three.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.line_request_id = str(uuid.uuid4())
            request.line_quota_consumed = 0
            channel = selectors.channel_for_access_token(token=_bearer_token(request))
            if channel is not None and request.method in methods and request.method != "GET":
                request.line_rate_counted = services.simulator_rate_limit_consume(
                    channel=channel, family=family
                )
            answer = partial(_answer, view, family, methods, request, channel)
            if _lean(channel, family):  # benchmarks: keep-alive, no API call log
                return answer(*args, **kwargs)
            if request.method == "GET":
                response = answer(*args, **kwargs)
                status = response.status_code
                return closing_response(
                    response, then=lambda: _bookkeeping(request, channel, status)
                )
            with transaction.atomic():
                response = answer(*args, **kwargs)
                _record(request, channel, response.status_code)
            return closing_response(response)

        return wrapper

    return decorator


def _answer(
    view: Callable[..., HttpResponse],
    family: str,
    methods: tuple[str, ...],
    request: HttpRequest,
    channel: SimulatorChannel | None,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    """The view's response, or LINE's error response; with its request ID."""
    try:
        response = _dispatch(view, family, methods, request, channel, *args, **kwargs)
    except LineApiError as error:
        response = error.response()
    response["X-Line-Request-Id"] = request.line_request_id
    return response


def _record(request: HttpRequest, channel: SimulatorChannel | None, status: int) -> None:
    services.simulator_api_call_record(
        channel=channel,
        request_id=request.line_request_id,
        method=request.method or "",
        path=request.path,
        status=status,
        quota_consumed=request.line_quota_consumed,
    )


def _bookkeeping(request: HttpRequest, channel: SimulatorChannel | None, status: int) -> None:
    """A read's count and log entry, written after its answer was sent."""
    family = getattr(request, "line_rate_family", None)
    if channel is not None and family is not None:
        services.simulator_rate_limit_consume(channel=channel, family=family)
    _record(request, channel, status)


def _lean(channel: SimulatorChannel | None, family: str) -> bool:
    """A multicast to a channel in lean mode (``SimulatorChannel.lean_sending``, off by
    default, for benchmarks): the simulator's own bookkeeping is left out so that a
    bench measures the sender, not the emulator."""
    return family in LEAN_ENDPOINTS and channel is not None and channel.lean_sending


class _AnswerThen:
    """A response body whose ``close()`` runs ``then``: the WSGI server calls it after
    it has sent the body (gunicorn, after the last chunk; Django's response passes on the
    close of a streaming body it was given)."""

    def __init__(self, content: bytes, then: Callable[[], None] | None) -> None:
        self.content, self.then = content, then

    def __iter__(self) -> Iterator[bytes]:
        return iter([self.content])

    def close(self) -> None:
        then, self.then = self.then, None
        if then is None:
            return
        try:
            then()
        except Exception:  # the answer is out; the emulator's bookkeeping must not matter
            logger.exception("simulator: bookkeeping after an answer failed")


def closing_response(
    response: HttpResponse, *, then: Callable[[], None] | None = None
) -> StreamingHttpResponse:
    """The same answer without a Content-Length, so the server closes the connection;
    ``then`` runs once the answer has been sent.

    The SDK keeps connections alive and never closes its pool. Django's development and
    live-test servers then keep one thread per idle connection; in tests those threads
    outlive the shared in-memory database and fail after teardown. Without a
    Content-Length, Django's server answers ``Connection: close`` and closes at once.
    LINE itself keeps connections alive; no client depends on that.
    """
    closing = StreamingHttpResponse(
        _AnswerThen(response.content, then),
        status=response.status_code,
        content_type=response["Content-Type"],
    )
    for name, value in response.items():
        closing[name] = value
    return closing


def _dispatch(
    view: Callable[..., HttpResponse],
    family: str,
    methods: tuple[str, ...],
    request: HttpRequest,
    channel: SimulatorChannel | None,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    if channel is None:
        raise LineApiError(401, AUTH_FAILED)
    if request.method not in methods:
        raise LineApiError(405, "Method Not Allowed")
    if request.method == "GET":  # a read: counted after it has answered (line_endpoint)
        request.line_rate_family = family
        if selectors.rate_limit_reached(channel=channel, family=family):
            raise LineApiError(429, RATE_LIMITED)
    elif not request.line_rate_counted:  # counted by line_endpoint, before any transaction
        raise LineApiError(429, RATE_LIMITED)
    _check_retry_key_header(request, family)
    return view(request, channel, *args, **kwargs)


def ok(body: dict[str, Any] | None = None, status: int = 200) -> JsonResponse:
    return JsonResponse(body if body is not None else {}, status=status)


# --- sending ----------------------------------------------------------------------


def _retry_key(request: HttpRequest) -> uuid.UUID | None:
    raw = request.headers.get("X-Line-Retry-Key")
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise LineApiError(400, "The value of the X-Line-Retry-Key header is invalid") from None


def _check_quota(channel: SimulatorChannel, recipients: int) -> None:
    if channel.monthly_quota is None:
        return
    if selectors.quota_consumption(channel=channel) + recipients > channel.monthly_quota:
        raise LineApiError(429, MONTHLY_LIMIT)


def _send(
    request: HttpRequest,
    channel: SimulatorChannel,
    users: list[SimulatorUser],
    messages: list[dict[str, Any]],
    *,
    counts: bool,
) -> services.Delivery:
    """Deliver once per retry key, counting quota for the recipients who got it."""
    key = _retry_key(request)
    if counts:
        _check_quota(channel, len(users))
    try:
        with transaction.atomic():
            claimed = key and services.simulator_retry_key_claim(
                channel=channel, key=key, request_id=request.line_request_id
            )
            delivery = services.simulator_messages_deliver(
                channel=channel, users=users, messages=messages, request_id=request.line_request_id
            )
            if claimed:
                claimed.sent_messages = delivery.sent_messages
                claimed.save(update_fields=["sent_messages"])
    except services.RetryKeyAlreadyAccepted as accepted:
        raise _retry_conflict(accepted.retry_key) from None
    if counts:
        request.line_quota_consumed = len(delivery.delivered_user_ids)
    return delivery


def _lean_accept(request: HttpRequest, channel: SimulatorChannel) -> None:
    """Lean mode: accept the request once per retry key (409 for a repeat), nothing else.

    No delivery shares the retry key's transaction, so the claim is its own one INSERT.
    """
    key = _retry_key(request)
    if key is None:
        return
    try:
        services.simulator_retry_key_claim(
            channel=channel, key=key, request_id=request.line_request_id
        )
    except services.RetryKeyAlreadyAccepted as accepted:
        raise _retry_conflict(accepted.retry_key) from None


def _retry_conflict(retry_key: Any) -> LineApiError:
    body: dict[str, Any] = {"message": "The retry key is already accepted"}
    if retry_key.sent_messages:
        body["sentMessages"] = retry_key.sent_messages
    return LineApiError(
        409,
        body["message"],
        body=body,
        headers={"X-Line-Accepted-Request-Id": retry_key.accepted_request_id},
    )


def _validated_messages(body: dict[str, Any], errors: Errors | None = None) -> list[dict[str, Any]]:
    errors = Errors() if errors is None else errors
    validate_messages(errors, body.get("messages"))
    if errors:
        raise validation_error(errors)
    return body["messages"]


@line_endpoint("reply")
def reply(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    errors = Errors()
    if not isinstance(body.get("replyToken"), str) or not body["replyToken"]:
        errors.add("replyToken", "must be specified")
    messages = _validated_messages(body, errors)
    user = services.simulator_reply_token_use(channel=channel, token=body["replyToken"])
    if user is None:
        raise LineApiError(400, "Invalid reply token")
    delivery = _send(request, channel, [user], messages, counts=False)
    return ok({"sentMessages": delivery.sent_messages})


@line_endpoint("push")
def push(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    errors = Errors()
    if not isinstance(body.get("to"), str) or not body["to"]:
        errors.add("to", "must be specified")
    messages = _validated_messages(body, errors)
    user = selectors.user_by_id(user_id=body["to"])
    if user is None:
        raise LineApiError(400, "Failed to send messages")
    delivery = _send(request, channel, [user], messages, counts=True)
    return ok({"sentMessages": delivery.sent_messages})


@line_endpoint("multicast")
def multicast(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    errors = Errors()
    check_list(errors, body.get("to"), "to", 1, 500)
    messages = _validated_messages(body, errors)
    if channel.lean_sending:  # no recipient lookup, no delivery, no quota: the retry key only
        _lean_accept(request, channel)
        return ok()
    users = selectors.users_by_ids(user_ids=[str(user_id) for user_id in body["to"]])
    _send(request, channel, users, messages, counts=True)
    return ok()


@line_endpoint("broadcast")
def broadcast(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    messages = _validated_messages(json_body(request))
    _send(request, channel, list(selectors.friends_of(channel=channel)), messages, counts=True)
    return ok()


@line_endpoint("narrowcast")
def narrowcast(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    """Audiences and demographic filters are not emulated: every friend is a target,
    cut to ``limit.max``."""
    body = json_body(request)
    messages = _validated_messages(body)
    users = list(selectors.friends_of(channel=channel))
    limit = body.get("limit") or {}
    if isinstance(limit.get("max"), int):
        users = users[: limit["max"]]
    delivery = _send(request, channel, users, messages, counts=True)
    services.simulator_narrowcast_record(
        channel=channel,
        request_id=request.line_request_id,
        target_count=len(users),
        success_count=len(delivery.delivered_user_ids),
    )
    return ok(status=202)


@line_endpoint("narrowcast_progress", methods=("GET",))
def narrowcast_progress(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    progress = selectors.narrowcast_by_request_id(
        channel=channel, request_id=request.GET.get("requestId", "")
    )
    if progress is None:
        raise not_found()
    return ok(
        {
            "phase": progress.phase,
            "successCount": progress.success_count,
            "failureCount": progress.failure_count,
            "targetCount": progress.target_count,
            "acceptedTime": progress.accepted_at.isoformat(),
            "completedTime": progress.completed_at.isoformat() if progress.completed_at else None,
        }
    )


@line_endpoint("default")
def validate(request: HttpRequest, channel: SimulatorChannel, kind: str) -> HttpResponse:
    """``/v2/bot/message/validate/{reply,push,multicast,narrowcast,broadcast}``."""
    _validated_messages(json_body(request))
    return ok()


# --- reading -----------------------------------------------------------------------


@line_endpoint("default", methods=("GET",))
def profile(request: HttpRequest, channel: SimulatorChannel, user_id: str) -> HttpResponse:
    user = selectors.user_by_id(user_id=user_id)
    if user is None or selectors.friendship_status(channel=channel, user=user) != "friend":
        raise not_found()
    body = {"displayName": user.display_name, "userId": user.user_id, "language": user.language}
    if user.picture_url:
        body["pictureUrl"] = user.picture_url
    if user.status_message:
        body["statusMessage"] = user.status_message
    return ok(body)


@line_endpoint("default", methods=("GET",))
def followers(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    limit = min(int(request.GET.get("limit") or 300), 1000)
    start = int(request.GET.get("start") or 0)
    user_ids = list(selectors.friends_of(channel=channel).values_list("user_id", flat=True))
    body: dict[str, Any] = {"userIds": user_ids[start : start + limit]}
    if start + limit < len(user_ids):
        body["next"] = str(start + limit)
    return ok(body)


@line_endpoint("default", methods=("GET",))
def message_content(
    request: HttpRequest, channel: SimulatorChannel, message_id: str
) -> HttpResponse:
    content = selectors.message_content(channel=channel, message_id=message_id)
    if content is None:
        raise not_found()
    return HttpResponse(bytes(content.data), content_type=content.content_type)


@line_endpoint("default", methods=("GET",))
def quota(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    if channel.monthly_quota is None:
        return ok({"type": "none"})
    return ok({"type": "limited", "value": channel.monthly_quota})


@line_endpoint("default", methods=("GET",))
def quota_consumption(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    return ok({"totalUsage": selectors.quota_consumption(channel=channel)})


@line_endpoint("default", methods=("GET",))
def bot_info(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = {
        "userId": channel.bot_user_id,
        "basicId": channel.basic_id or f"@{channel.channel_id[-6:]}sim",
        "displayName": channel.name,
        "chatMode": "bot",
        "markAsReadMode": "auto",
    }
    if channel.picture_url:
        body["pictureUrl"] = channel.picture_url
    return ok(body)


@line_endpoint("default")
def loading_start(request: HttpRequest, channel: SimulatorChannel) -> HttpResponse:
    body = json_body(request)
    seconds = body.get("loadingSeconds", 20)
    errors = Errors()
    if not isinstance(body.get("chatId"), str) or not body["chatId"]:
        errors.add("chatId", "must be specified")
    if not isinstance(seconds, int) or not 5 <= seconds <= 60 or seconds % 5:
        errors.add("loadingSeconds", "Must be one of 5, 10, ..., 60")
    if errors:
        raise validation_error(errors)
    user = selectors.user_by_id(user_id=body["chatId"])
    if user is None:
        raise LineApiError(400, "The property, chatId, in the request body is invalid")
    services.simulator_loading_start(channel=channel, user=user, seconds=seconds)
    return ok(status=202)


@csrf_exempt
def unknown_endpoint(request: HttpRequest, path: str) -> HttpResponse:
    """LINE answers a path it does not serve with 404 and a request ID."""
    response = JsonResponse({"message": "Not found"}, status=404)
    response["X-Line-Request-Id"] = str(uuid.uuid4())
    return closing_response(response)
