"""The public report map in a browser: clustered markers on the city's tiles, the list
below it; without JavaScript the list and its filters still work; the embed page shows
inside another site's frame, the full page refuses to be framed. Tiles come from the
test's own tile server (a closed network has no OSM). The screenshots are the guide's
(docs/open311.md)."""

import io
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from procedures.models import SubmissionStatus
from tests.browser.conftest import expect_policy_refusal
from tests.reports.public.world import (
    TARO,
    approved_photo,
    build_world,
    report_by_api,
    report_by_line,
    set_status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TILES = "https://tiles.example.jp/{z}/{x}/{y}.png"
# Reports around Tokyo station: a cluster downtown and a few further out.
PLACES = [
    (35.6812, 139.7671),
    (35.6815, 139.7668),
    (35.6809, 139.7675),
    (35.6840, 139.7700),
    (35.6760, 139.7630),
    (35.6900, 139.7000),
    (35.6950, 139.7500),
    (35.6700, 139.7400),
]
STATUSES = [
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.IN_REVIEW,
    SubmissionStatus.COMPLETED,
    SubmissionStatus.REJECTED,
]


def tile() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (256, 256), "#eef2e8")
    draw = ImageDraw.Draw(image)
    draw.line((0, 128, 256, 128), fill="#ffffff", width=14)
    draw.line((128, 0, 128, 256), fill="#ffffff", width=8)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def published(city, designer, settings):
    settings.MAP_TILE_URL = TILES
    world = build_world(city, designer)
    first = report_by_line(city, TARO)
    set_status(first, SubmissionStatus.IN_REVIEW)
    approved_photo(first)
    for number, (latitude, longitude) in enumerate(PLACES):
        report = report_by_api(world.roads, latitude, longitude)
        set_status(report, STATUSES[number % len(STATUSES)])
    report_by_api(world.private, 35.6813, 139.7672)
    return world


def _serve_tiles(tab) -> None:
    tab.route(
        "https://tiles.example.jp/**",
        lambda route: route.fulfill(body=tile(), content_type="image/png"),
    )


def test_the_public_map_clusters_reports_and_lists_them(
    page, live_server, published, doc_screenshot
):
    _serve_tiles(page)
    page.goto(f"{live_server.url}/r/demo-city/reports/")
    expect(page.locator("h1")).to_have_text("デモ市の通報状況")
    expect(page.locator("img.leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator(".marker-cluster").first).to_be_visible()
    expect(page.locator("li.public-report")).to_have_count(9)  # the private one is not there
    expect(page.locator(".public-photos img").first).to_be_visible()
    assert page.locator("#public-report-map").get_attribute("data-drawn") == "9"
    doc_screenshot(page, "public-reports-map", full_page=True)

    page.locator(".marker-cluster").first.click()
    expect(page.locator(".leaflet-marker-icon:not(.marker-cluster)").first).to_be_visible()


def test_without_javascript_the_list_and_filters_work(browser, live_server, published):
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    tab = context.new_page()
    try:
        tab.goto(f"{live_server.url}/r/demo-city/reports/")
        expect(tab.locator("li.public-report")).to_have_count(9)
        expect(tab.locator("#public-report-map")).to_be_hidden()
        tab.select_option("select[name=status]", "completed")
        tab.get_by_role("button", name="表示").click()
        expect(tab.locator("li.public-report")).to_have_count(2)
        expect(tab.locator(".public-status").first).to_have_text("完了")
    finally:
        context.close()


@contextmanager
def city_site(body: str):
    """The city's own website: a real server on 127.0.0.1 (Chrome refuses to let a page
    it cannot place on the network, such as a routed one, frame a local server)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_embed_page_shows_in_the_citys_site_and_the_full_page_does_not(
    page, live_server, published, doc_screenshot
):
    _serve_tiles(page)
    expect_policy_refusal("frame-ancestors 'none'")  # the full page refuses the frame
    reports = f"{live_server.url}/r/demo-city/reports/"
    body = (
        "<!DOCTYPE html><html lang='ja'><meta charset='utf-8'><body><h1>デモ市ホームページ</h1>"
        f'<iframe id="embed" src="{reports}embed/" width="900" height="620"></iframe>'
        f'<iframe id="full" src="{reports}" width="300" height="100"></iframe></body></html>'
    )
    with city_site(body) as url:
        page.goto(url)
        embedded = page.frame_locator("#embed")
        expect(embedded.locator("li.public-report").first).to_be_visible()
        expect(embedded.locator(".marker-cluster").first).to_be_visible()
        full = page.frame_locator("#full")
        expect(full.locator("li.public-report")).to_have_count(0)
        doc_screenshot(page, "public-reports-embed")
