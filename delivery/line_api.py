"""Talking to the Messaging API with the real line-bot-sdk v3 client.

``LINE_API_BASE_URL`` points the client at LINE in production and at the simulator
everywhere else. Every call has a timeout; 429 and 5xx are retried with backoff
(honouring Retry-After); other 4xx are raised with LINE's message.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import urllib3
from django.conf import settings
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    Message,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException

logger = logging.getLogger(__name__)

TIMEOUT = (3.05, 10)  # connect, read (seconds)
RETRIES = 3
BACKOFF = 0.5  # seconds, doubled each retry
MAX_MESSAGES_PER_REQUEST = 5
MULTICAST_MAX_RECIPIENTS = 500
SHARED_CLIENTS_PER_THREAD = 16
# The loading animation: shown until the next message arrives or this many seconds pass
# (LINE: 5 to 60, a multiple of 5); one attempt within this timeout, never retried.
LOADING_SECONDS = 20
LOADING_TIMEOUT = (1, 2)
T = TypeVar("T")


class LineApiError(Exception):
    """LINE refused a request; ``status`` and LINE's ``message`` say why."""

    def __init__(self, status: int, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"LINE API {status}: {message}")
        self.status = status
        self.message = message
        self.retryable = retryable


class AlreadyAccepted(Exception):
    """409 for a retry key LINE already accepted: the messages were sent before."""


def _configuration(access_token: str, host: str) -> Configuration:
    return Configuration(host=host, access_token=access_token)


def _error(exc: ApiException) -> LineApiError:
    message = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body or exc.reason)
    status = exc.status or 0
    # 429 is a rate limit (retry later) unless the monthly quota is used up (no retry helps).
    quota_exhausted = status == 429 and "monthly limit" in message
    retryable = (status == 429 and not quota_exhausted) or status >= 500
    return LineApiError(status, message, retryable=retryable)


def _retry_after(exc: ApiException, attempt: int) -> float:
    header = (exc.headers or {}).get("Retry-After")
    if header and header.isdigit():
        return min(float(header), 10.0)
    return BACKOFF * (2**attempt)


def call_with_retries(
    call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep, retries: int = RETRIES
) -> T:
    """Run an SDK call; retry 429/5xx and network failures up to ``retries`` times.

    Raises LineApiError (``retryable`` when a later attempt may succeed) or AlreadyAccepted.
    """
    for attempt in range(retries + 1):
        try:
            return _network_errors_as_api_errors(call)
        except ApiException as exc:
            if exc.status == 409:
                raise AlreadyAccepted(str(exc.body)) from exc
            error = _error(exc)
            if not error.retryable or attempt == retries:
                logger.warning("LINE API error: %s", error)
                raise error from exc
            sleep(_retry_after(exc, attempt))
    raise AssertionError("unreachable")


NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)


def _network_errors_as_api_errors(call: Callable[[], T]) -> T:
    """A reset connection or a timeout is LINE being unreachable: a retryable 503."""
    try:
        return call()
    except NETWORK_ERRORS as exc:
        raise ApiException(status=503, reason=f"network: {type(exc).__name__}: {exc}") from exc


class LineClient:
    """The Messaging API for one channel."""

    def __init__(self, access_token: str) -> None:
        self.api_client = ApiClient(_configuration(access_token, settings.LINE_API_BASE_URL))
        self.blob_client = ApiClient(_configuration(access_token, settings.LINE_API_DATA_BASE_URL))
        self.api = MessagingApi(self.api_client)
        self.blob = MessagingApiBlob(self.blob_client)

    def close(self) -> None:
        self.api_client.close()
        self.blob_client.close()

    def __enter__(self) -> "LineClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def reply(self, reply_token: str, messages: list[dict]) -> None:
        request = ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages})
        # A reply is never retried: a reply token is single-use, and after a failure
        # the caller falls back to push with a retry key.
        try:
            _network_errors_as_api_errors(
                lambda: self.api.reply_message(request, _request_timeout=TIMEOUT)
            )
        except ApiException as exc:
            raise _error(exc) from exc

    def loading_start(self, user_id: str, *, seconds: int = LOADING_SECONDS) -> None:
        """LINE's loading animation in a one-to-one chat (``/v2/bot/chat/loading/start``).

        One attempt with a short timeout, never retried: it only tells the resident that
        an answer is coming. Raises LineApiError.
        """
        request = ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=seconds)
        try:
            _network_errors_as_api_errors(
                lambda: self.api.show_loading_animation(request, _request_timeout=LOADING_TIMEOUT)
            )
        except ApiException as exc:
            raise _error(exc) from exc

    def push(self, user_id: str, messages: list[dict], *, retry_key: str) -> None:
        request = PushMessageRequest.from_dict({"to": user_id, "messages": messages})
        call_with_retries(
            lambda: self.api.push_message(
                request, x_line_retry_key=retry_key, _request_timeout=TIMEOUT
            )
        )

    def profile(self, user_id: str) -> dict:
        profile = call_with_retries(lambda: self.api.get_profile(user_id, _request_timeout=TIMEOUT))
        return {
            "display_name": profile.display_name or "",
            "language": profile.language or "",
            "picture_url": profile.picture_url or "",
        }

    def content(self, message_id: str) -> bytes:
        return call_with_retries(
            lambda: self.blob.get_message_content(message_id, _request_timeout=TIMEOUT)
        )

    def bot_info(self) -> dict:
        info = call_with_retries(lambda: self.api.get_bot_info(_request_timeout=TIMEOUT))
        return {"user_id": info.user_id, "display_name": info.display_name}

    def multicast(self, user_ids: list[str], messages: list[dict], *, retry_key: str) -> None:
        """One multicast (≤ 500 recipients). Raises AlreadyAccepted on 409 (sent before).

        The SDK's models parse and validate the messages; the user IDs are counted but
        not validated one by one (``construct``): they come from our own database, LINE
        checks them anyway, and pydantic checking 500 strings took 1.7 ms per request,
        more than the rest of the call.
        """
        if not 1 <= len(user_ids) <= MULTICAST_MAX_RECIPIENTS:
            raise ValueError(f"A multicast goes to 1 to 500 users, not {len(user_ids)}.")
        if not 1 <= len(messages) <= MAX_MESSAGES_PER_REQUEST:
            raise ValueError(f"A multicast carries 1 to 5 messages, not {len(messages)}.")
        request = MulticastRequest.construct(
            to=user_ids, messages=[Message.from_dict(message) for message in messages]
        )
        call_with_retries(
            lambda: self.api.multicast(
                request, x_line_retry_key=retry_key, _request_timeout=TIMEOUT
            )
        )

    def quota(self, *, retries: int = RETRIES) -> int | None:
        """This month's message quota; None when the plan has no limit.

        A console page showing it passes ``retries=0``: a page must not wait for LINE.
        """
        quota = call_with_retries(
            lambda: self.api.get_message_quota(_request_timeout=TIMEOUT), retries=retries
        )
        return quota.value if quota.type == "limited" else None

    def quota_consumption(self, *, retries: int = RETRIES) -> int:
        """Messages counted against this month's quota so far."""
        usage = call_with_retries(
            lambda: self.api.get_message_quota_consumption(_request_timeout=TIMEOUT),
            retries=retries,
        )
        return usage.total_usage


_shared = threading.local()


def shared_client(access_token: str) -> LineClient:
    """A client kept open for this thread, per access token and API base URL.

    Its connections stay alive from one call to the next (HTTP keep-alive), so a worker
    sending chunk after chunk neither builds a client nor opens a connection each time.
    Per thread, because a connection pool shared by more threads than it holds discards
    connections. The caller must not close it.
    """
    clients: dict[tuple[str, ...], LineClient] = _shared.__dict__.setdefault("clients", {})
    key = (access_token, settings.LINE_API_BASE_URL, settings.LINE_API_DATA_BASE_URL)
    client = clients.get(key)
    if client is None:
        if len(clients) >= SHARED_CLIENTS_PER_THREAD:  # the oldest goes
            clients.pop(next(iter(clients))).close()
        client = clients[key] = LineClient(access_token)
    return client
