"""First login of an admin and an operator in a real browser: TOTP activation and MFA login.

The browser makes the requests a real one makes (the favicon, static files, a prefetch of
the page it is on) while the activation page is open; none of them may change the secret
that the page shows.
"""

import re
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from govtech.models import Role, User
from tests.factories import PASSWORD, staff_member

pytestmark = pytest.mark.django_db(transaction=True)


def totp_code(secret: str, *, step: int = 0) -> str:
    """The code an authenticator app shows now (``step`` periods later)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def log_in_with_password(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/admin/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def background_requests(page, base_url: str) -> None:
    """What Chromium fetches on its own beside the page: favicon, a stylesheet, a prefetch."""
    for path in ("/favicon.ico", "/static/console/console.css", "/admin/", "/favicon.ico"):
        page.evaluate("url => fetch(url).then(r => r.status)", base_url + path)


def activate_totp(page, base_url: str) -> tuple[str, list[str]]:
    """On the activation page: read the secret, let the browser wander, confirm a code."""
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.input_value("#authenticator_secret")
    background_requests(page, base_url)
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    codes = page.input_value("main textarea").split()
    return secret, codes


def log_out(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/logout/")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/|/$|/admin/"))


def log_in_with_code(page, base_url: str, email: str, code: str) -> None:
    log_in_with_password(page, base_url, email)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def first_login_activates_two_factor(page, base_url: str, email: str, screenshot, name: str):
    """The first login of someone who must use two-factor login, through to its daily use."""
    log_in_with_password(page, base_url, email)
    screenshot(page, f"mfa-activate-{name}")
    assert "reauthenticate" not in page.url, "asked for the password right after logging in"
    secret, recovery_codes = activate_totp(page, base_url)
    screenshot(page, f"mfa-recovery-codes-{name}")
    assert len(recovery_codes) >= 8
    with page.expect_download() as download:
        page.click("#download-recovery-codes")
    assert Path(download.value.path()).read_text().split() == recovery_codes
    page.goto(f"{base_url}/accounts/2fa/recovery-codes/")
    assert recovery_codes[0] not in page.content(), "recovery codes are shown only once"
    page.goto(f"{base_url}/admin/")
    assert page.url == f"{base_url}/admin/"

    log_out(page, base_url)
    log_in_with_code(page, base_url, email, totp_code(secret))
    log_out(page, base_url)
    log_in_with_code(page, base_url, email, recovery_codes[0])
    assert "管理コンソール" in page.content()


def test_admin_activates_totp_on_first_login_and_logs_in_with_code_and_recovery_code(
    page, live_server, city, doc_screenshot
):
    admin = staff_member(city, Role.ADMIN, email="new-admin@demo-city.example")
    first_login_activates_two_factor(page, live_server.url, admin.email, doc_screenshot, "admin")


def test_operator_activates_totp_on_first_login_and_logs_in_with_code_and_recovery_code(
    page, live_server, db, screenshot
):
    operator = User.objects.create_superuser(email="ops@govtech.example", password=PASSWORD)
    first_login_activates_two_factor(page, live_server.url, operator.email, screenshot, "operator")


def with_virtual_passkey(page) -> None:
    """Chromium's virtual authenticator: a platform passkey that verifies the user."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    session.send("WebAuthn.addVirtualAuthenticator", {"options": options})


def test_admin_can_choose_a_passkey_instead_and_sign_in_with_it(
    page, live_server, city, doc_screenshot
):
    admin = staff_member(city, Role.ADMIN, email="passkey-admin@demo-city.example")
    base_url = live_server.url
    with_virtual_passkey(page)
    log_in_with_password(page, base_url, admin.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    page.click("#use-passkey")
    page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/"))
    page.fill("input[name=name]", "職員PC")
    page.check("input[name=passwordless]")
    doc_screenshot(page, "mfa-passkey-add")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    page.goto(f"{base_url}/admin/")
    assert page.url == f"{base_url}/admin/"

    log_out(page, base_url)
    page.goto(f"{base_url}/accounts/login/?next=/admin/")
    page.click("#passkey_login")
    page.wait_for_url(f"{base_url}/admin/")
    assert "管理コンソール" in page.content()
