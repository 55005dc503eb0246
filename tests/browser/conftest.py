"""Playwright driving Debian's chromium (/usr/bin/chromium) against the live server.

Never a browser download: the executable is the system package `make test` installs.
Screenshots go to ``artifacts/screenshots`` (CI keeps the folder; git ignores it).
"""

import os
import shutil
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import Error as PlaywrightError

from govtech.models import User

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Flags for a closed network and a root user (CI runs as root); no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself are still synchronous and safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _report_policy_violations(launched)
        yield launched
        launched.close()


# What chromium refused under the Content-Security-Policy during the current test, and
# the refusals a test provokes on purpose (a substring of each).
POLICY_VIOLATIONS: list[str] = []
POLICY_REFUSALS_EXPECTED: list[str] = []


def _report_policy_violations(launched) -> None:
    """Every context the tests open listens to its pages' consoles for CSP refusals."""
    new_context = launched.new_context

    def listening_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.on("console", _note_violation)
        return context

    launched.new_context = listening_context


def _note_violation(message) -> None:
    if "Content Security Policy" in message.text:
        POLICY_VIOLATIONS.append(f"{message.location.get('url', '')}: {message.text}")


@pytest.fixture(autouse=True)
def no_policy_violations():
    """A page that needs an inline script, a foreign script or any other thing the
    Content-Security-Policy forbids fails its browser test."""
    POLICY_VIOLATIONS.clear()
    POLICY_REFUSALS_EXPECTED.clear()
    yield
    for expected in POLICY_REFUSALS_EXPECTED:
        assert any(expected in seen for seen in POLICY_VIOLATIONS), f"not refused: {expected}"
    unexpected = [
        seen
        for seen in POLICY_VIOLATIONS
        if not any(expected in seen for expected in POLICY_REFUSALS_EXPECTED)
    ]
    assert not unexpected, "\n".join(unexpected)


def expect_policy_refusal(substring: str) -> None:
    """The current test provokes a refusal on purpose (e.g. framing a page that must not
    be framed): it must happen, and it does not fail the test."""
    POLICY_REFUSALS_EXPECTED.append(substring)


@pytest.fixture
def page(browser):
    """A fresh browser tab sized like a municipal PC screen (1366×768), in Japanese."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def doc_screenshot(screenshot):
    """A CI artifact; with GOVTECH_UPDATE_DOCS_IMAGES=1 also the guides' copy in docs/images
    (256 colours, to keep the repository small). A test run never changes tracked files
    unless asked to."""

    def take(tab, name: str, *, full_page: bool = False) -> None:
        path = screenshot(tab, name, full_page=full_page)
        if os.environ.get("GOVTECH_UPDATE_DOCS_IMAGES") != "1":
            return
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(DOCS_IMAGES / f"{name}.png", optimize=True)

    return take


@pytest.fixture
def screenshot():
    """Save a screenshot as a CI artifact: ``screenshot(page, "builder-step-list")``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str, *, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        try:
            tab.screenshot(path=str(path), full_page=full_page)
        except PlaywrightError as error:
            # Chromium under load now and then answers "Unable to capture screenshot"
            # while it is still compositing; the page is fine, a second try takes it.
            if "Unable to capture screenshot" not in str(error):
                raise
            tab.wait_for_timeout(500)
            tab.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def signed_in(browser, live_server, email: str):
    """A browser tab of its own, signed in as ``email`` (the login and two-factor pages
    have their own browser tests; here the session is made by Django's test client)."""
    user = User.objects.get(email=email)
    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}}
    )
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return tab
