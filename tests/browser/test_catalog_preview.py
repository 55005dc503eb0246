"""A designer previews a catalog template in LINE before importing it."""

import io

import pytest
from django.core.management import call_command

from procedures.catalog.models import Template

pytestmark = pytest.mark.django_db(transaction=True)


def test_designer_sees_each_template_step_as_line_shows_it(page, live_server, screenshot):
    call_command("seed_demo", stdout=io.StringIO())
    template = Template.objects.get(key="bulky-waste")
    page.goto(f"{live_server.url}/admin/procedures/template/{template.pk}/change/")
    page.fill("input[name=login]", "designer@demo-city.example")
    page.fill("input[name=password]", "demo-pass-2026!")
    page.click("button[type=submit]")
    preview = page.get_by_test_id("catalog-preview")
    preview.wait_for()
    assert "デモ市" in preview.inner_text()
    assert preview.locator(".quick-replies button").count() > 0
    page.get_by_test_id("catalog-preview-step").select_option(index=1)
    screenshot(page, "catalog-preview")
    assert preview.locator(".messages li").count() >= 1
