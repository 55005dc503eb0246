"""How a back-office system proves who it is: ``Authorization: Bearer <token>``.

``ApiTokenAuthentication`` sets ``request.auth`` to the ``ApiToken`` (``request.user`` is
anonymous: no staff member is behind it). An unknown, revoked or expired token is a 401
whose body says which (``code``); a request without a token is a 401 too. The permission
classes below need a token, and the write scope for changes; ``BackOfficeView`` runs the
handler inside the token's municipality scope.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView, exception_handler

from govtech.tenancy import tenant_scope
from reports.backoffice.models import ApiToken
from reports.backoffice.services import TokenRefused, api_token_authenticate
from reports.backoffice.throttling import TokenRateThrottle

SCHEME = "Bearer"


def _refused(message: str, code: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed({"detail": message, "code": code})


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer gtb_…``: a back-office API token of one municipality."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME.lower().encode():
            return None  # no token: NotAuthenticated (401) from the permission
        if len(parts) != 2:
            raise _refused(_("Send the token as “Authorization: Bearer <token>”."), "token_invalid")
        try:
            token = api_token_authenticate(parts[1].decode("latin-1"))
        except TokenRefused as refused:
            raise _refused(str(refused), refused.code) from None
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return f'{SCHEME} realm="api"'


def token_of(request: Request) -> ApiToken:
    """The request's token (the permission classes made sure there is one)."""
    return cast(ApiToken, request.auth)


class HasApiToken(BasePermission):
    """Any valid back-office token (read or write)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.NotAuthenticated(
                {"detail": _("Send a back-office API token."), "code": "token_missing"}
            )
        return True


class MayWrite(BasePermission):
    """A token with the write scope."""

    message = {"detail": _("This token may only read."), "code": "token_read_only"}

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken) and request.auth.may_write


def _with_code(exc: Exception, context: dict[str, Any]):
    """DRF's error response, with the ``code`` of a lone ``detail`` (``not_found``,
    ``throttled``…) beside it, so that every error of this API reads the same."""
    response = exception_handler(exc, context)
    data = response.data if response is not None else None
    if isinstance(data, dict) and set(data) == {"detail"}:
        data["code"] = getattr(data["detail"], "code", "error")
    return response


class BackOfficeView(APIView):
    """Base of every back-office API view: token authentication, throttling per token,
    and the handler run inside the token's municipality scope (another municipality's
    rows do not exist for it)."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasApiToken]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [JSONParser]

    _scope: ExitStack | None = None

    def get_exception_handler(self):
        return _with_code

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self._scope = ExitStack()
        self._scope.enter_context(tenant_scope(token_of(request).municipality))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        # Called for every response, errors included: the scope never outlives the request.
        if self._scope is not None:
            self._scope.close()
            self._scope = None
        return super().finalize_response(request, response, *args, **kwargs)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The bearer scheme in the OpenAPI document."""

    target_class = ApiTokenAuthentication
    name = "backOfficeToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gtb_…",
            "description": "A back-office API token issued in the console (API tokens).",
        }
