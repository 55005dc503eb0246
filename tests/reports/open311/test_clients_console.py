"""Admins manage Open311 clients in the console: the key is shown once and only its hash
kept; keys are revoked, never deleted; nobody else sees them."""

import re

import pytest
from django.urls import reverse

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from reports.models import Open311Client
from reports.open311.clients import key_hash, open311_client_create, open311_client_for_key

pytestmark = pytest.mark.django_db

ADD = "admin:reports_open311client_add"
LIST = "admin:reports_open311client_changelist"


def test_an_admin_creates_a_client_and_sees_its_key_once(client, admin_user, city):
    client.force_login(admin_user)
    response = client.post(reverse(ADD), {"name": "まちレポアプリ"}, follow=True)
    assert response.status_code == 200
    # the message holds the key; the list shows its first characters only
    key = max(re.findall(r"o311_[-\w]+", response.content.decode()), key=len)
    found = Open311Client.objects.with_scope(municipality=city).get()
    assert (found.name, found.created_by, found.key_hash) == (
        "まちレポアプリ",
        admin_user,
        key_hash(key),
    )
    assert open311_client_for_key(key) == found
    page = client.get(reverse("admin:reports_open311client_change", args=[found.pk]))
    assert key not in page.content.decode() and found.key_prefix in page.content.decode()
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="reports.open311client.created").count() == 1


def test_an_admin_revokes_a_key(client, admin_user, city):
    found, key = open311_client_create(actor=admin_user, municipality=city, name="まちレポアプリ")
    client.force_login(admin_user)
    response = client.post(reverse(LIST), {"action": "revoke", "_selected_action": [found.pk]})
    assert response.status_code == 302
    assert open311_client_for_key(key) is None
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="reports.open311client.revoked").exists()
    delete = reverse("admin:reports_open311client_delete", args=[found.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_reviewers_and_outsiders_see_no_client(client, admin_user, reviewer, outsider, city):
    found, _key = open311_client_create(actor=admin_user, municipality=city, name="まちレポアプリ")
    change = reverse("admin:reports_open311client_change", args=[found.pk])
    client.force_login(reviewer)
    assert client.get(reverse(LIST)).status_code == 403
    client.force_login(outsider)
    assert client.get(change).status_code == 404
    assert "まちレポアプリ" not in client.get(reverse(LIST)).content.decode()
