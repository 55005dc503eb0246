"""Admins issue back-office tokens in the console: the secret is shown once, only its
hash kept; the list shows access, expiry and last use; tokens are revoked (audited),
never edited or deleted; nobody else sees them."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from reports.backoffice.models import ApiToken
from reports.backoffice.services import TokenRefused, api_token_authenticate, api_token_create
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ADD = "admin:reports_apitoken_add"
LIST = "admin:reports_apitoken_changelist"


def _expiry(days: int) -> str:
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def _form(days: int = 90, **more) -> dict:
    when = _expiry(days)
    return {
        "name": "kintone連携",
        "scope": "write",
        "expires_at_0": when[:10],
        "expires_at_1": when[11:],
        **more,
    }


def test_an_admin_issues_a_token_and_sees_its_secret_once(client, admin_user, city):
    kankyo = DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    client.force_login(admin_user)
    response = client.post(reverse(ADD), _form(departments=[kankyo.pk]), follow=True)
    assert response.status_code == 200
    key = max(re.findall(r"gtb_[-\w]+", response.content.decode()), key=len)
    token = api_token_authenticate(key)
    assert (token.name, token.scope, token.created_by, token.department_ids) == (
        "kintone連携",
        "write",
        admin_user,
        frozenset({kankyo.pk}),
    )
    listing = client.get(reverse(LIST)).content.decode()
    assert key not in listing and token.key_prefix in listing and "環境課" in listing
    page = client.get(reverse("admin:reports_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    with tenant_scope(city):
        (entry,) = AuditLogEntry.objects.filter(action="reports.apitoken.created")
    assert entry.data["departments"] == ["kankyo"] and entry.actor == admin_user


def test_a_token_longer_than_the_maximum_or_past_is_refused(client, admin_user, city):
    client.force_login(admin_user)
    for days in (400, -1):
        response = client.post(reverse(ADD), _form(days=days))
        assert response.status_code == 200  # the form again, with the error
        assert "有効" in response.content.decode()
    with tenant_scope(city):
        assert not ApiToken.objects.exists()


def test_the_list_shows_expiry_and_last_use(client, admin_user, city):
    _token, key = api_token_create(
        actor=admin_user,
        municipality=city,
        name="住民税システム",
        scope="read",
        expires_at=timezone.now() + timedelta(days=30),
    )
    api_token_authenticate(key)
    client.force_login(admin_user)
    listing = client.get(reverse(LIST)).content.decode()
    assert "住民税システム" in listing and "全部署" in listing and "読み取りのみ" in listing
    assert "有効" in listing


def test_an_admin_revokes_a_token(client, admin_user, city):
    token, key = api_token_create(
        actor=admin_user,
        municipality=city,
        name="住民税システム",
        scope="read",
        expires_at=timezone.now() + timedelta(days=30),
    )
    client.force_login(admin_user)
    response = client.post(reverse(LIST), {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    with pytest.raises(TokenRefused):
        api_token_authenticate(key)
    with tenant_scope(city):
        assert ApiToken.objects.get().revoked_at is not None
        assert AuditLogEntry.objects.filter(action="reports.apitoken.revoked").count() == 1
    delete = reverse("admin:reports_apitoken_delete", args=[token.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_reviewers_and_outsiders_see_no_token(client, admin_user, reviewer, outsider, city):
    token, _key = api_token_create(
        actor=admin_user,
        municipality=city,
        name="住民税システム",
        scope="read",
        expires_at=timezone.now() + timedelta(days=30),
    )
    change = reverse("admin:reports_apitoken_change", args=[token.pk])
    client.force_login(reviewer)
    assert client.get(reverse(LIST)).status_code == 403
    client.force_login(outsider)
    assert client.get(change).status_code == 404
    assert "住民税システム" not in client.get(reverse(LIST)).content.decode()
