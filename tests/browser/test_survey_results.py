"""Survey results in a browser: a reviewer opens the demo's satisfaction survey, filters
it by area, reads the free text; an admin publishes it and anyone opens the public page
without JavaScript. The screenshots are the staff guide's (docs/surveys-guide.md)."""

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from procedures.models import Procedure
from reports.surveys.models import SurveyPublication
from tests.browser.conftest import signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def survey(db, live_server, settings):
    """demo-city as `make demo` seeds it: the satisfaction survey answered by residents
    of four areas, its public page published."""
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    call_command("seed_demo", verbosity=0)
    with scopes_disabled():
        return Procedure.objects.get(municipality__slug="demo-city", key="citizen-survey-2026")


def test_a_reviewer_reads_filters_and_exports_a_surveys_results(
    browser, live_server, survey, doc_screenshot
):
    tab = signed_in(browser, live_server, "reviewer@demo-city.example")
    tab.goto(f"{live_server.url}/admin/")
    tab.get_by_role("link", name="アンケート結果").first.click()
    tab.get_by_role("link", name="市民満足度アンケート").click()
    expect(tab.get_by_text("48 件の回答")).to_be_visible()
    satisfaction = tab.locator("#q-satisfaction")
    expect(satisfaction.get_by_role("rowheader", name="満足", exact=True)).to_be_visible()
    doc_screenshot(tab, "surveys-results", full_page=True)

    tab.get_by_label("地区").select_option(label="北地区")
    tab.get_by_role("button", name="絞り込む").click()
    expect(tab.get_by_text("（絞り込み中）")).to_be_visible()
    assert "attr_area=north" in tab.url
    doc_screenshot(tab, "surveys-filtered")

    with tab.expect_download() as download:
        tab.get_by_role("link", name="集計をダウンロード（CSV）").click()
    assert download.value.suggested_filename.startswith("citizen-survey-2026-results-")

    tab.get_by_role("link", name="すべての回答").first.click()
    tab.get_by_label("回答を検索").fill("LINE")
    tab.get_by_role("button", name="検索").click()
    expect(tab.get_by_text("LINEで手続きできるのはとても便利です。").first).to_be_visible()
    doc_screenshot(tab, "surveys-free-text")


def test_the_public_page_shows_aggregates_with_small_cells_hidden_without_javascript(
    browser, live_server, survey, doc_screenshot
):
    with scopes_disabled():
        publication = SurveyPublication.objects.get(procedure=survey)
    assert publication.is_public and publication.minimum_count == 5
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="ja-JP", java_script_enabled=False
    )
    tab = context.new_page()
    tab.goto(f"{live_server.url}/r/demo-city/surveys/citizen-survey-2026/")
    expect(tab.get_by_role("heading", name="市民満足度アンケート 結果")).to_be_visible()
    expect(tab.get_by_text("48 件の回答")).to_be_visible()
    expect(tab.locator("tr.suppressed").first).to_be_visible()  # some cells are under 5
    assert "ご意見" not in tab.content()
    doc_screenshot(tab, "surveys-public", full_page=True)
    context.close()
