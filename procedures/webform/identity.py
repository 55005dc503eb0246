"""Who a web resident is: a Resident whose identity is a random token the browser keeps.

The browser holds the token in a signed cookie (one per municipality, under its ``/p/``
path); the Resident's ``handle`` is ``web:`` and a hash of it, so the database never
holds what would let someone act as the resident. The resident is created the first time
they start a procedure, never on a mere visit. A resume link carries the token signed,
so opening it on another device continues as the same resident; a status link carries a
submission id signed, and shows its status to whoever holds it (the answers only to the
resident themselves).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse

from govtech.models import Municipality
from procedures.residents.models import Resident
from procedures.residents.services import resident_for_handle

COOKIE = "govtech_web_resident"
COOKIE_SALT = "procedures.webform.resident"
RESUME_SALT = "procedures.webform.resume"
STATUS_SALT = "procedures.webform.status"
COOKIE_AGE = timedelta(days=90)
RESUME_LINK_AGE = timedelta(days=30)
HANDLE_PREFIX = "web:"


def handle_for(token: str) -> str:
    return HANDLE_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:40]


def cookie_path(municipality: Municipality) -> str:
    return f"/p/{municipality.slug}/"


def browser_token(request: HttpRequest) -> str | None:
    """The resident token the browser holds, when its signature is good."""
    token = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT, max_age=COOKIE_AGE)
    return token if isinstance(token, str) and token else None


def web_resident(request: HttpRequest, municipality: Municipality) -> Resident | None:
    """The resident this browser is, or None before it started anything."""
    token = browser_token(request)
    if token is None:
        return None
    return Resident.objects.filter(municipality=municipality, handle=handle_for(token)).first()


def web_resident_for_token(*, municipality: Municipality, token: str, language: str) -> Resident:
    """The resident of ``token``, created once (idempotent, also under a race)."""
    return resident_for_handle(
        municipality=municipality, handle=handle_for(token), language=language
    )


def new_token() -> str:
    return secrets.token_urlsafe(24)


def remember(response: HttpResponse, municipality: Municipality, token: str, *, secure: bool):
    """Let the browser keep ``token`` for this municipality's web forms only."""
    response.set_signed_cookie(
        COOKIE,
        token,
        salt=COOKIE_SALT,
        max_age=int(COOKIE_AGE.total_seconds()),
        path=cookie_path(municipality),
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def resume_code(municipality: Municipality, token: str) -> str:
    return signing.dumps({"m": municipality.pk, "t": token}, salt=RESUME_SALT, compress=True)


def token_from_resume_code(municipality: Municipality, code: str) -> str | None:
    """The token of a resume link made for this municipality, while it is valid."""
    try:
        data = signing.loads(code, salt=RESUME_SALT, max_age=RESUME_LINK_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("m") != municipality.pk:
        return None
    token = data.get("t")
    return token if isinstance(token, str) and token else None


def status_code(submission_id: int, municipality: Municipality) -> str:
    return signing.dumps({"m": municipality.pk, "s": submission_id}, salt=STATUS_SALT)


def submission_id_from_status_code(municipality: Municipality, code: str) -> int | None:
    try:
        data = signing.loads(code, salt=STATUS_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("m") != municipality.pk:
        return None
    found = data.get("s")
    return found if isinstance(found, int) else None


def web_resident_by_token(token: str) -> Resident | None:
    """The resident of ``token`` if they exist (a resume link never creates one)."""
    return Resident.objects.filter(handle=handle_for(token)).first()
