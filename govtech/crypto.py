"""Encryption at rest for secrets (LINE channel secrets, access tokens).

Keys come from ``FIELD_ENCRYPTION_KEY`` (comma-separated Fernet keys). The first key
encrypts; every key decrypts, so a new key can be put first and old values re-encrypted
with ``python manage.py rotate_field_keys`` before the old key is removed.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django_scopes import scopes_disabled

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated url-safe base64 32-byte Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted with govtech.crypto")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any FIELD_ENCRYPTION_KEY."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python code sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def rotate_encrypted_fields() -> int:
    """Re-encrypt every encrypted value with the first key. Returns how many were rewritten.

    Idempotent: running it twice rewrites the same rows with the same (current) key.
    """
    count = 0
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        with transaction.atomic(), scopes_disabled():
            for obj in model._base_manager.select_for_update().only(
                "pk", *[f.name for f in fields]
            ):
                model._base_manager.filter(pk=obj.pk).update(
                    **{f.name: getattr(obj, f.name) for f in fields}
                )
                count += 1
    return count
