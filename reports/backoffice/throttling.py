"""Throttling of the back-office API per token (not per address: one city's systems may
share a gateway). The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["backoffice"]``
(``BACKOFFICE_API_RATE``)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from reports.backoffice.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "backoffice"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None  # refused by the permission before any work is done
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
