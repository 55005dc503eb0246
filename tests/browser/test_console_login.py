"""A staff member logs in to the console in a real browser."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_designer_logs_in_and_sees_the_japanese_console(page, live_server, designer, screenshot):
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=login]", designer.email)
    page.fill("input[name=password]", PASSWORD)
    screenshot(page, "login")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "govtech 管理コンソール" in page.content()
    screenshot(page, "console-dashboard")
