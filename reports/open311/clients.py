"""Open311 client applications and their API keys: created and revoked by a
municipality's admins in the console, checked on every ``POST requests``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from govtech.models import Municipality, User
from govtech.services import audit_log
from govtech.tenancy import scopes_disabled, tenant_scope
from reports.apikeys import PREFIX_LENGTH, key_hash, new_key, touch_last_used
from reports.models import Open311Client

__all__ = [
    "key_hash",
    "open311_client_create",
    "open311_client_for_key",
    "open311_client_revoke",
]

KEY_PREFIX = "o311_"
# last_used_at is a hint for admins, not a log: written at most this often per client.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def open311_client_create(
    *, actor: User | None, municipality: Municipality, name: str
) -> tuple[Open311Client, str]:
    """A new client of ``municipality`` and its key, returned this once (only its hash
    is stored). Audited."""
    key = new_key(KEY_PREFIX)
    with tenant_scope(municipality):
        client = Open311Client.objects.create(
            municipality=municipality,
            name=name,
            key_prefix=key[:PREFIX_LENGTH],
            key_hash=key_hash(key),
            created_by=actor,
        )
    audit_log(actor, "reports.open311client.created", client, {"name": name})
    return client, key


def open311_client_revoke(*, actor: User | None, client: Open311Client, now: datetime) -> None:
    """Refuse the client's key from now on (idempotent). Audited."""
    if client.revoked_at is not None:
        return
    client.revoked_at = now
    client.save(update_fields=["revoked_at"])
    audit_log(actor, "reports.open311client.revoked", client, {})


def open311_client_for_key(key: str, *, now: datetime | None = None) -> Open311Client | None:
    """The client whose key this is, unless revoked; None otherwise. Notes when it was
    used (at most every few minutes, with a conditional update)."""
    if not key:
        return None
    now = now or timezone.now()
    # A key names its municipality: the lookup is by the key's hash, across tenants.
    with scopes_disabled():
        client = (
            Open311Client.objects.filter(key_hash=key_hash(key), revoked_at__isnull=True)
            .select_related("municipality")
            .first()
        )
        if client is not None:
            touch_last_used(Open311Client, client.pk, now=now, resolution=LAST_USED_RESOLUTION)
    return client
