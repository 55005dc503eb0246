"""Who gets in: a valid bearer token of the municipality, not expired, not revoked; the
secret is never stored; last use is noted once a minute; each token has its own rate."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from govtech.tenancy import scopes_disabled, tenant_scope
from reports.backoffice.models import ApiToken
from reports.backoffice.services import api_token_revoke
from reports.backoffice.throttling import TokenRateThrottle
from tests.reports.backoffice.conftest import Api, issue

pytestmark = pytest.mark.django_db


def _token(key: str) -> ApiToken:
    with scopes_disabled():
        return ApiToken.objects.get(key_prefix=key[:12])


def test_a_request_without_a_token_is_refused_with_401(world):
    response = Api(None).get("submissions/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_missing"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused(world):
    key = issue(world.municipality)
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "gtb_nothing", "nonsense"):
        response = Api(wrong).get("submissions/")
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"


def test_an_expired_token_is_refused_with_a_clear_error(world):
    key = issue(world.municipality, days=1)
    assert Api(key).get("submissions/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = Api(key).get("submissions/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "トークンの有効期限が切れています。",
        "code": "token_expired",
    }


def test_a_revoked_token_is_refused(world):
    key = issue(world.municipality)
    with tenant_scope(world.municipality):
        api_token_revoke(actor=None, token=_token(key), now=timezone.now())
    response = Api(key).get("procedures/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_only_the_hash_of_the_secret_is_stored(world):
    key = issue(world.municipality)
    token = _token(key)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(getattr(token, field.attname)) for field in ApiToken._meta.concrete_fields]
    assert not any(key in value for value in stored)


def test_last_use_is_noted_at_most_once_a_minute(world):
    key = issue(world.municipality)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        Api(key).get("procedures/")
    assert _token(key).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        Api(key).get("procedures/")
    assert _token(key).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        Api(key).get("procedures/")
    assert _token(key).last_used_at == start + timedelta(seconds=61)


def test_each_token_is_throttled_on_its_own(world, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"backoffice": "2/min"})
    busy, other = Api(issue(world.municipality)), Api(issue(world.municipality, name="other"))
    assert [busy.get("procedures/").status_code for _ in range(2)] == [200, 200]
    throttled = busy.get("procedures/")
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert other.get("procedures/").status_code == 200
