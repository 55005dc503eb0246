"""Staff login through allauth: MFA for admins, throttling, sessions, audit."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry, Role
from tests.factories import PASSWORD, staff_member

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_admin_login_page_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_console_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "ログイン" in response.content.decode()


def test_designer_logs_in_and_reaches_the_console(client, designer):
    response = login(client, designer.email)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_without_mfa_is_sent_to_set_it_up(client, city):
    admin = staff_member(city, Role.ADMIN, email="new-admin@demo-city.example")
    login(client, admin.email)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # The setup page is reachable (after confirming the password), so nobody is locked out.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_admin_with_mfa_is_asked_for_a_code_at_login(client, admin_user):
    response = login(client, admin_user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")


def test_municipality_can_require_mfa_for_every_role(client, city, designer):
    city.mfa_required_for_all = True
    city.save()
    login(client, designer.email)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_repeated_bad_logins_are_throttled(client, designer):
    for _ in range(5):
        assert login(client, designer.email, "wrong-password").status_code == 200
    # From the sixth try on, even the right password is refused for this account.
    response = login(client, designer.email)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    errors = response.context["form"].non_field_errors()
    assert any("ログイン" in str(e) or "attempts" in str(e) for e in errors)


def test_logins_and_failures_are_audited(client, designer, city):
    login(client, designer.email, "wrong-password")
    login(client, designer.email)
    with scopes_disabled():
        actions = list(AuditLogEntry.objects.values_list("action", "municipality"))
    assert ("govtech.auth.login_failed", None) in actions
    assert ("govtech.auth.login", city.pk) in actions
    with scopes_disabled():
        failed = AuditLogEntry.objects.get(action="govtech.auth.login_failed")
    assert failed.data == {"identifier": designer.email}


def test_public_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"), {"email": "someone@example.jp", "password1": PASSWORD}
    )
    assert response.status_code == 200
    assert "signup" in response.templates[0].name or "closed" in response.templates[0].name
    from govtech.models import User

    assert not User.objects.filter(email="someone@example.jp").exists()


def test_sessions_expire_after_inactivity(client, designer):
    login(client, designer.email)
    idle = settings.SESSION_COOKIE_AGE
    assert idle <= 60 * 60
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=idle - 60), tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + timedelta(seconds=idle + 60), tick=False):
        assert client.get("/admin/").status_code == 200  # the last request renewed it
    with time_machine.travel(start + timedelta(seconds=2 * idle + 120), tick=False):
        assert client.get("/admin/").status_code == 302


def test_user_without_any_role_cannot_enter_the_console(client, db):
    from tests.factories import UserFactory

    nobody = UserFactory(email="nobody@example.jp")
    client.force_login(nobody)
    response = client.get("/admin/")
    assert response.status_code == 302
