"""The dashboards in a browser: an admin opens the overview of a lively month (Chart.js
draws every chart, the tables carry the same figures), changes the date range, opens a
procedure's funnel and the reservations. The screenshots illustrate docs/dashboards-guide.md
(``GOVTECH_UPDATE_DOCS_IMAGES=1`` refreshes them)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from reports.dashboards.aggregation import aggregates_compute, tokyo_today
from tests.browser.conftest import signed_in
from tests.reports.dashboards.lively import DAYS, lively_city

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def month(city, live_server, settings):
    """A month of activity, aggregated as the nightly task would have done it."""
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"  # the home's quota
    today = tokyo_today()
    procedure = lively_city(city, today=today)
    aggregates_compute(municipality=city, first=today - timedelta(days=DAYS), last=today)
    return procedure


def drawn(tab, chart_id: str):
    return tab.locator(f'canvas[data-chart="{chart_id}"][data-drawn="true"]')


def test_an_admin_reads_the_overview_a_funnel_and_the_reservations(
    browser, live_server, admin_user, month, doc_screenshot
):
    tab = signed_in(browser, live_server, admin_user.email)
    tab.goto(f"{live_server.url}/admin/")
    tab.get_by_role("link", name="ダッシュボード").first.click()

    expect(tab.get_by_role("heading", name="LINE友だち")).to_be_visible()
    expect(drawn(tab, "friends-chart")).to_be_visible()
    expect(drawn(tab, "broadcasts-chart")).to_be_visible()
    expect(tab.get_by_test_id("broadcast-row")).to_have_count(4)
    expect(tab.get_by_test_id("coverage")).to_contain_text("%")
    doc_screenshot(tab, "dashboards-overview", full_page=True)

    # The chart's figures as a table, for screen readers and for copying into a report.
    tab.get_by_text("数値を表で見る").first.click()
    expect(tab.get_by_test_id("friends-table").locator("tbody tr")).to_have_count(DAYS)

    # A shorter range: the last week only.
    last = tokyo_today() - timedelta(days=1)
    tab.get_by_label("開始日").fill((last - timedelta(days=6)).isoformat())
    tab.get_by_role("button", name="表示").click()
    expect(tab.get_by_test_id("friends-table").locator("tbody tr")).to_have_count(7)

    tab.get_by_role("link", name="粗大ごみ収集の申込").click()
    expect(tab.get_by_role("heading", name="ステップごとの離脱（ファネル）")).to_be_visible()
    expect(drawn(tab, "funnel-chart")).to_be_visible()
    rows = tab.get_by_test_id("funnel-row")
    expect(rows).to_have_count(4)
    reached = [int(text) for text in tab.get_by_test_id("reached").all_inner_texts()]
    assert reached == sorted(reached, reverse=True) and reached[0] > 0
    expect(tab.get_by_test_id("funnel-table")).to_contain_text("写真")
    doc_screenshot(tab, "dashboards-funnel", full_page=True)

    tab.locator(".breadcrumbs").get_by_role("link", name="ダッシュボード").click()
    tab.locator(".dash-nav").get_by_role("link", name="予約").click()
    expect(tab.get_by_test_id("resource-row")).to_have_count(1)
    expect(tab.get_by_test_id("occupancy")).to_contain_text("%")
    tab.context.close()
