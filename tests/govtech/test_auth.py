"""Staff login through allauth: MFA for admins, throttling, sessions, audit."""

import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
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
    # Just logged in: the set-up page opens without asking for the password again.
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_setup_page_asks_for_the_password_once_the_login_is_old(client, city):
    admin = staff_member(city, Role.ADMIN, email="new-admin@demo-city.example")
    login(client, admin.email)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        response = client.get(reverse("mfa_activate_totp"))
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_setup_page_shows_the_same_secret_until_it_is_confirmed(client, city):
    admin = staff_member(city, Role.ADMIN, email="new-admin@demo-city.example")
    login(client, admin.email)
    first = client.get(reverse("mfa_activate_totp")).context["form"].secret
    client.get("/favicon.ico")
    client.get("/admin/", headers={"Sec-Fetch-Dest": "image"})
    assert client.get(reverse("mfa_activate_totp")).context["form"].secret == first
    code = format_hotp_value(hotp_value(first, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()


def test_what_the_browser_fetches_on_its_own_is_refused_not_redirected_into_setup(client, city):
    admin = staff_member(city, Role.ADMIN, email="new-admin@demo-city.example")
    login(client, admin.email)
    for headers in (
        {"Sec-Fetch-Dest": "image"},
        {"Sec-Fetch-Dest": "empty"},
        {"Sec-Fetch-Dest": "document", "Sec-Purpose": "prefetch"},
    ):
        assert client.get("/admin/", headers=headers).status_code == 403
    assert client.get("/admin/", headers={"Sec-Fetch-Dest": "document"}).status_code == 302


def test_favicon_is_served_to_everyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


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


BEHIND_PROXY = "10.0.0.1"  # the proxy's own address, as gunicorn sees every request


def login_from(client, email, address, password=PASSWORD):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=BEHIND_PROXY,
        HTTP_X_FORWARDED_FOR=address,
    )


def test_bad_logins_behind_the_proxy_do_not_lock_out_other_staff(client, city, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for number in range(12):
        attacker_email = f"guess{number}@demo-city.example"
        login_from(client, attacker_email, "203.0.113.66", password="wrong-password")
    colleague = staff_member(city, Role.DESIGNER, email="colleague@demo-city.example")
    response = login_from(client, colleague.email, "198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_without_a_trusted_proxy_the_forwarded_address_is_ignored(client, city, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for number in range(12):
        login_from(client, f"guess{number}@demo-city.example", f"203.0.113.{number}", "wrong")
    colleague = staff_member(city, Role.DESIGNER, email="colleague@demo-city.example")
    assert login_from(client, colleague.email, "198.51.100.7").status_code == 200


def test_the_audit_log_records_the_real_client_address(client, designer, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    login_from(client, designer.email, "198.51.100.7")
    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="govtech.auth.login")
    assert entry.ip_address == "198.51.100.7"


def test_the_lockout_message_is_japanese(client, designer):
    for _ in range(6):
        response = login(client, designer.email, "wrong-password")
    errors = " ".join(str(e) for e in response.context["form"].non_field_errors())
    assert "ログイン" in errors
    assert "attempts" not in errors


def test_the_login_page_offers_no_sign_up_while_sign_up_is_closed(client):
    page = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") not in page
    assert "ユーザー登録" not in page


def test_the_rate_limit_page_is_japanese(client, designer):
    for _ in range(6):
        response = client.post(reverse("account_reset_password"), {"email": designer.email})
    assert response.status_code == 429
    page = response.content.decode()
    assert "試行回数が多すぎます" in page and "Too Many Requests" not in page
