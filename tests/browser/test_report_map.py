"""The staff map of reports in a browser: clustered markers coloured by status from the
compact marker data, a click on a marker opens the case page, and a report sent 10 m
from another is offered as a possible duplicate and merged. The screenshots are the
reviewers' guide's (docs/reviewers-guide.md, 「通報マップと重複」).

Run on PostgreSQL with the suite's services (`make test` does); the tiles come from a
tile server the test answers itself (a closed network has no OSM).
"""

import io
import random
from datetime import timedelta

import pytest
from django_scopes import scopes_disabled
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from govtech.tenancy import tenant_scope
from procedures.casework.services import case_transition
from procedures.incidents.models import Report
from tests.browser.conftest import signed_in
from tests.procedures.incidents.report_world import NOW, make_report, report_category

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TILES = "https://tiles.example.jp/{z}/{x}/{y}.png"
CENTRE = (35.4887, 139.4075)
FAR = (35.5050, 139.4400)  # about 3.6 km north-east: a marker of its own
STREETS = ["中央1丁目", "中央2丁目", "緑ケ丘3丁目", "相武台4丁目", "栗原5丁目"]


def tile() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (256, 256), "#e8eef2")
    draw = ImageDraw.Draw(image)
    draw.line((0, 128, 256, 128), fill="#ffffff", width=14)
    draw.line((128, 0, 128, 256), fill="#ffffff", width=8)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def town(city, designer, reviewer, settings):
    """Forty open reports of roads and parks around the city hall, some in progress, one
    far away, and a pair 10 m apart."""
    settings.MAP_TILE_URL = TILES
    roads = report_category(city, designer, "road", "道路")
    parks = report_category(city, designer, "park", "公園")
    rng = random.Random(15)
    for n in range(40):
        place = (CENTRE[0] + rng.uniform(-0.008, 0.008), CENTRE[1] + rng.uniform(-0.01, 0.01))
        category = roads if n % 3 else parks
        when = NOW - timedelta(days=rng.randint(0, 20), hours=n)
        submission = make_report(
            category, place, resident=f"R{n}", now=when, address=f"デモ市{STREETS[n % 5]}"
        )
        if n % 4 == 0:
            with tenant_scope(city):
                case_transition(actor=reviewer, submission=submission, to="in_review", notify=False)
    far = make_report(roads, FAR, resident="far", address="デモ市北部")
    first = make_report(roads, CENTRE, resident="A", address="デモ市中央1丁目 市役所前")
    ten_m = (CENTRE[0] + 10 / 111_195, CENTRE[1])
    second = make_report(
        roads, ten_m, resident="B", now=NOW + timedelta(hours=2), address="デモ市中央1丁目"
    )
    return far, first, second


def test_the_staff_map_clusters_reports_and_a_duplicate_is_merged(
    browser, live_server, town, reviewer, doc_screenshot
):
    far, first, second = town
    clerk = signed_in(browser, live_server, reviewer.email)
    clerk.route(
        "https://tiles.example.jp/**",
        lambda route: route.fulfill(body=tile(), content_type="image/png"),
    )
    clerk.goto(f"{live_server.url}/admin/procedures/submission/")
    clerk.get_by_role("link", name="通報マップ").click()
    canvas = clerk.locator("#report-map")
    expect(canvas).to_have_attribute("data-markers", "43")
    expect(clerk.locator(".marker-cluster").first).to_be_visible()
    expect(clerk.locator("img.leaflet-tile-loaded").first).to_be_visible()
    expect(clerk.locator("[data-testid=report-row]")).to_have_count(43)
    doc_screenshot(clerk, "reviewers-report-map")

    marker = clerk.locator(f".rm-marker[data-reference='{far.reference}']")
    expect(marker).to_be_visible()
    expect(marker).to_have_attribute("data-status", "submitted")
    expect(marker).to_have_css("background-color", "rgb(215, 48, 31)")  # 受付: red
    marker.click()
    expect(clerk).to_have_url(f"{live_server.url}/admin/procedures/submission/{far.pk}/change/")

    clerk.goto(f"{live_server.url}/admin/procedures/submission/{second.pk}/change/")
    candidate = clerk.locator(
        f"[data-testid=duplicate-candidate][data-reference='{first.reference}']"
    )
    expect(candidate).to_contain_text("10 m")
    clerk.locator("#cw-duplicates").scroll_into_view_if_needed()
    doc_screenshot(clerk, "reviewers-report-duplicates")
    candidate.get_by_role("button", name=f"この通報を {first.reference} にまとめる").click()
    expect(clerk).to_have_url(f"{live_server.url}/admin/procedures/submission/{first.pk}/change/")
    expect(clerk.get_by_test_id("merged-reports")).to_contain_text(second.reference)
    with scopes_disabled():
        assert Report.objects.get(submission=second).merged_into.submission_id == first.pk
