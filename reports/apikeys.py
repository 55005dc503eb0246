"""API keys shared by the clients of ``reports``: Open311 applications and back-office
tokens. A key is 256 random bits shown once; only its SHA-256 is stored (random keys
need no slow hash), with the first characters kept to tell keys apart. When a key was
last used is a hint for admins, written with a conditional UPDATE at most once per
``resolution`` so that busy clients do not write a row on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db.models import Model, Q

PREFIX_LENGTH = 12


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Whether ``key`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(key_hash(key), stored_hash)


def new_key(prefix: str) -> str:
    """A fresh key: ``prefix``, then 256 random bits (URL-safe)."""
    return prefix + secrets.token_urlsafe(32)


def touch_last_used(model: type[Model], pk: int, *, now: datetime, resolution: timedelta) -> bool:
    """Set ``last_used_at`` of row ``pk`` to ``now`` unless it was set less than
    ``resolution`` ago; one conditional UPDATE, so concurrent requests write it once.
    The caller runs unscoped or in the row's scope. True when the row was written."""
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - resolution)
    return bool(model._default_manager.filter(stale, pk=pk).update(last_used_at=now))
