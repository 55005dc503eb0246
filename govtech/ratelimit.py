"""Request limits for public endpoints: a fixed one-minute window per caller, counted in
the shared cache (Redis in production), so every web process sees the same count.

The caller is the client's address as the login limits see it: allauth resolves
``X-Forwarded-For`` through the ``TRUSTED_PROXY_COUNT`` proxies the operator runs, so
behind a load balancer residents do not share one count, and addresses further left in
the header (the client's own say) are not trusted.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    """The caller's address as the nearest trusted proxy saw it; the connection's own
    address when the proxies did not say (a request that bypassed them)."""
    try:
        return get_account_adapter().get_client_ip(request)
    except PermissionDenied:
        return request.META.get("REMOTE_ADDR", "")


def over_limit(scope: str, who: str, per_minute: int) -> bool:
    """Count one request of ``who`` in ``scope``; True once this minute's count passes
    ``per_minute``. ``who`` is hashed: addresses and API keys are not kept in the cache."""
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    key = f"rate:{scope}:{digest}:{window}"
    cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: the first of a new window
        cache.add(key, 1, timeout=2 * WINDOW_SECONDS)
        count = 1
    return count > per_minute


def too_many_requests() -> HttpResponse:
    response = HttpResponse(
        _("Too many requests. Please wait a minute and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(WINDOW_SECONDS)
    return response


def public_rate_limit(scope: str) -> Callable[[Callable[..., HttpResponseBase]], Callable]:
    """A view decorator: at most ``PUBLIC_REQUESTS_PER_MINUTE`` requests per caller and
    minute in ``scope``, then 429 with Retry-After."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            limit = settings.PUBLIC_REQUESTS_PER_MINUTE
            if over_limit(scope, client_address(request), limit):
                return too_many_requests()
            return view(request, *args, **kwargs)

        return limited

    return decorate
