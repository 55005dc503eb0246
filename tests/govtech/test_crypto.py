"""Secrets are encrypted at rest with rotatable keys."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from govtech import crypto


def test_encrypt_round_trips_and_hides_the_plaintext(settings):
    stored = crypto.encrypt("channel-secret-123")
    assert "channel-secret-123" not in stored
    assert crypto.decrypt(stored) == "channel-secret-123"


def test_old_values_decrypt_after_a_new_key_is_put_first(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
        stored = crypto.encrypt("token")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert crypto.decrypt(stored) == "token"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]), pytest.raises(Exception):  # noqa: B017
        crypto.decrypt(stored)


def test_bad_key_configuration_gives_a_clear_error():
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]),
        pytest.raises(Exception, match="FIELD_ENCRYPTION_KEY"),
    ):
        crypto.encrypt("x")


@pytest.mark.django_db(transaction=True)
def test_encrypted_field_stores_ciphertext_and_rotation_rewrites_it():
    from django.db import models

    class Secret(models.Model):
        value = crypto.EncryptedTextField()

        class Meta:
            app_label = "govtech"
            db_table = "test_crypto_secret"

        def __str__(self) -> str:
            return "secret"

    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    with connection.schema_editor() as editor:
        editor.create_model(Secret)
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
            Secret.objects.create(value="s3cret")
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM test_crypto_secret")
            raw_before = cursor.fetchone()[0]
        assert "s3cret" not in raw_before
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
            assert crypto.rotate_encrypted_fields() >= 1
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
            assert Secret.objects.get().value == "s3cret"
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Secret)
        from django.apps import apps

        apps.all_models["govtech"].pop("secret", None)
        apps.clear_cache()
