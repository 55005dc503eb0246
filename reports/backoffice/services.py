"""Back-office API writes: tokens (created and revoked by a municipality's admins, checked
on every request), the audit of what a token read, and status changes made through the
API with a client's idempotency key.

A token is ``gtb_`` and 256 random bits; its first 12 characters find the row and only
the SHA-256 of the whole token is stored and compared (in constant time). The token
itself is returned once, by ``api_token_create``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import Department, Municipality, User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import scopes_disabled, tenant_scope
from procedures.casework.models import CaseEvent
from procedures.casework.services import case_transition
from procedures.models import Submission
from reports.apikeys import PREFIX_LENGTH, key_hash, key_matches, new_key, touch_last_used
from reports.backoffice.models import ApiIdempotencyKey, ApiToken, TokenScope

TOKEN_PREFIX = "gtb_"  # noqa: S105 - a marker, not a secret
# last_used_at is shown to admins, not a log: written at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(ServiceError):
    """The bearer token cannot be used; ``code`` says why (``token_invalid``,
    ``token_expired``, ``token_revoked``)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class IdempotencyKeyReused(ServiceError):
    """The idempotency key was already used by this token for another request."""


def max_token_days() -> int:
    return int(settings.BACKOFFICE_TOKEN_MAX_DAYS)


def _check_token_fields(
    *, municipality: Municipality, expires_at: datetime, departments: Iterable[Department]
) -> list[Department]:
    now = timezone.now()
    if expires_at <= now:
        raise ServiceError(_("The expiry date must be in the future."))
    if expires_at > now + timedelta(days=max_token_days()):
        raise ServiceError(
            _("A token may be valid for at most %(days)d days.") % {"days": max_token_days()}
        )
    chosen = list(departments)
    if any(department.municipality_id != municipality.pk for department in chosen):
        raise ServiceError(_("Choose departments of this municipality."))
    return chosen


def api_token_create(
    *,
    actor: User | None,
    municipality: Municipality,
    name: str,
    scope: str,
    expires_at: datetime,
    departments: Iterable[Department] = (),
) -> tuple[ApiToken, str]:
    """A new token of ``municipality`` and its secret, returned this once (only its hash
    is stored). Raises ServiceError for an expiry in the past or beyond the maximum
    lifetime, or another municipality's department. Audited."""
    chosen = _check_token_fields(
        municipality=municipality, expires_at=expires_at, departments=departments
    )
    key = new_key(TOKEN_PREFIX)
    with transaction.atomic(), tenant_scope(municipality):
        token = ApiToken.objects.create(
            municipality=municipality,
            name=name,
            key_prefix=key[:PREFIX_LENGTH],
            key_hash=key_hash(key),
            scope=TokenScope(scope),
            expires_at=expires_at,
            created_by=actor,
        )
        token.departments.set(chosen)
        data = {
            "name": name,
            "scope": scope,
            "expires_at": expires_at.isoformat(),
            "departments": sorted(department.code for department in chosen),
        }
        audit_log(actor, "reports.apitoken.created", token, data)
    return token, key


def api_token_revoke(*, actor: User | None, token: ApiToken, now: datetime) -> bool:
    """Refuse the token from now on. Idempotent (a conditional UPDATE: revoked once,
    audited once); True when this call revoked it."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        audit_log(actor, "reports.apitoken.revoked", token, {"name": token.name})
    return bool(revoked)


def api_token_authenticate(key: str, *, now: datetime | None = None) -> ApiToken:
    """The token whose secret ``key`` is, with its municipality and ``department_ids``
    loaded; raises TokenRefused when it is unknown, revoked or expired. Notes when it was
    last used (at most once a minute, one conditional UPDATE)."""
    now = now or timezone.now()
    # A token names its municipality: it is found across tenants, by its prefix.
    with scopes_disabled():
        token = (
            ApiToken.objects.select_related("municipality")
            .filter(key_prefix=key[:PREFIX_LENGTH])
            .first()
            if key.startswith(TOKEN_PREFIX)
            else None
        )
        if token is None or not key_matches(key, token.key_hash):
            raise TokenRefused(_("The token is not valid."), "token_invalid")
        if token.revoked_at is not None:
            raise TokenRefused(_("The token has been revoked."), "token_revoked")
        if token.is_expired(now):
            raise TokenRefused(_("The token has expired."), "token_expired")
        token.department_ids = frozenset(token.departments.values_list("pk", flat=True))
        touch_last_used(ApiToken, token.pk, now=now, resolution=LAST_USED_RESOLUTION)
    return token


def api_read_audit(
    *, token: ApiToken, what: str, target: Any = None, data: dict[str, Any] | None = None
) -> None:
    """One audit entry for one API request that read residents' personal data: which
    token, what was read (``what``: ``submission``, ``attachment``, ``bookings``,
    ``reports``) and which rows, not each field."""
    audit_log(
        None,
        f"reports.apitoken.read_{what}",
        target,
        {"api_token": token.pk, **(data or {})},
        municipality=token.municipality,
        actor_label=token.audit_label,
    )


def api_submission_transition(
    *,
    token: ApiToken,
    submission: Submission,
    to: str,
    reason: str = "",
    notify: bool = True,
    expected: str | None = None,
) -> CaseEvent:
    """Change the submission's status as the console does (``case_transition``: the same
    workflow rules, resident message and audit), the token named as who acted. Raises
    CaseRefused like the console; the caller checked the token may write."""
    if not token.may_write:
        raise ServiceError(_("This token may only read."))
    return case_transition(
        actor=None,
        submission=submission,
        to=to,
        reason=reason,
        notify=notify,
        expected=expected,
        via={"api_token": token.pk, "label": token.audit_label},
    )


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """What identifies a request for its idempotency key: method, path and JSON body."""
    raw = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def api_idempotent(
    *,
    token: ApiToken,
    key: str,
    fingerprint: str,
    perform: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``perform`` once per (token, key): the key's row is written in the same
    transaction as the change, so a repeated request (a retry after a timeout, or a
    concurrent one, which waits on the row) gets the stored response and changes nothing.
    A failure stores nothing (the transaction rolls back), so the client may retry.
    Raises IdempotencyKeyReused when the key came with another request."""
    with transaction.atomic():
        row, created = ApiIdempotencyKey.objects.select_for_update().get_or_create(
            token=token,
            key=key,
            defaults={"municipality_id": token.municipality_id, "fingerprint": fingerprint},
        )
        if not created:
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    _("This Idempotency-Key was already used for another request.")
                )
            return row.status_code, row.response
        status_code, body = perform()
        row.status_code, row.response = status_code, body
        row.save(update_fields=["status_code", "response"])
    return status_code, body
