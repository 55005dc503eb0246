"""A reviewer's day in two browsers: the inbox, a road-damage report with its photo and
map, a return asking for a new photo; the resident corrects it in the LINE simulator's
chat page; the reviewer sees what changed and marks the report 完了 with an after photo;
the resident is told and sees the photo.

Every step goes the production path (console → casework services → outbox → the real
SDK → the emulated Messaging API; the chat page → signed webhook → engine). The map's
tiles come from a tile server the test answers itself (a closed network has no OSM).
The screenshots are the reviewers' guide's (docs/reviewers-guide.md).
"""

import io

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from delivery.simulator.models import SimulatorUser
from govtech.models import User
from procedures.models import Procedure, ResidentUpload, Submission
from tests.browser.conftest import signed_in
from tests.delivery.line_world import CHANNEL_ID, SimResident, line_world  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("line_world", "eager_celery"),
]

NAME = "森 さくら"
TILES = "https://tiles.example.jp/{z}/{x}/{y}.png"
PLACE = (35.4887, 139.4075, "デモ市中央1丁目 市役所前")


def photo(colour: str) -> bytes:
    """A road with a dark hole in it, in ``colour`` light."""
    image = Image.new("RGB", (640, 480), colour)
    ImageDraw.Draw(image).ellipse((220, 180, 420, 300), fill="#222")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def repaired() -> bytes:
    """The same road, the hole filled."""
    image = Image.new("RGB", (640, 480), "#8a8a8a")
    ImageDraw.Draw(image).rectangle((200, 170, 440, 310), fill="#4a4a4a")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def tile() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (256, 256), "#e8eef2")
    ImageDraw.Draw(image).line((0, 128, 256, 128), fill="#ffffff", width=14)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def demo_day(city, settings):
    """demo-city as `make demo` seeds it: starters published, a working day in the
    reviewer's inbox; the map's tiles from the test's own tile server."""
    settings.MAP_TILE_URL = TILES
    call_command("seed_demo", verbosity=0)
    with scopes_disabled():
        assert Procedure.objects.get(municipality=city, key="road-damage").live_version_id
    return User.objects.get(email="reviewer@demo-city.example")


def resident_tab(browser, live_server):
    """The LINE simulator's chat page, as a resident who has added the city's account."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{live_server.url}/simulator/")
    tab.get_by_test_id("channel-select").select_option(CHANNEL_ID)
    tab.get_by_test_id("new-user-name").fill(NAME)
    tab.get_by_test_id("create-user").click()
    expect(tab.get_by_test_id("user-select").locator("option:checked")).to_have_text(NAME)
    expect(tab.get_by_test_id("friendship-status")).to_have_text("未追加")
    tab.get_by_test_id("follow-button").click()
    expect(tab.get_by_test_id("friendship-status")).to_have_text("友だち")
    return tab


def report_by_api(live_server, user_id: str) -> None:
    """What the resident sent first (quickly, through the simulator's API)."""
    hanako = SimResident(live_server.url, CHANNEL_ID, user_id)
    hanako.say("道路")
    hanako.received()
    hanako.tap("路面の穴・陥没")
    hanako.received()
    hanako.location(*PLACE)
    hanako.received()
    hanako.photo(photo("#9a9a9a"))
    hanako.received()
    hanako.tap("いいえ")  # no danger to traffic
    hanako.received()
    hanako.tap("いいえ")  # no call back
    hanako.received()
    hanako.tap("送信")


def last_bot_message(tab):
    return tab.locator("[data-testid=message][data-direction=out]").last


def test_a_reviewer_returns_a_report_the_resident_corrects_it_in_line_and_it_is_done(
    browser, live_server, demo_day, doc_screenshot
):
    reviewer = demo_day
    resident = resident_tab(browser, live_server)
    with scopes_disabled():
        user_id = SimulatorUser.objects.get(display_name=NAME).user_id
    report_by_api(live_server, user_id)
    with scopes_disabled():
        submission = Submission.objects.get(resident__display_name=NAME)
    expect(resident.get_by_test_id("message-list")).to_contain_text(submission.reference)

    clerk = signed_in(browser, live_server, reviewer.email)
    clerk.route(
        "https://tiles.example.jp/**",
        lambda route: route.fulfill(body=tile(), content_type="image/png"),
    )
    clerk.goto(f"{live_server.url}/admin/procedures/submission/")
    expect(clerk.locator("[data-queue=new]")).to_have_attribute("aria-current", "page")
    expect(clerk.get_by_role("link", name=submission.reference)).to_be_visible()
    doc_screenshot(clerk, "reviewers-inbox")
    clerk.get_by_label("検索").fill("さくら")
    clerk.get_by_role("button", name="フィルター").click()
    expect(clerk.locator(".cw-list tbody tr")).to_have_count(1)

    clerk.get_by_role("link", name=submission.reference).click()
    expect(clerk.locator("tr[data-step=damage]")).to_contain_text("路面の穴・陥没")
    expect(clerk.locator(".cw-answers").get_by_text("市役所前")).to_be_visible()
    expect(clerk.locator("img.leaflet-tile-loaded").first).to_be_visible()
    expect(clerk.locator(".leaflet-marker-icon")).to_have_count(1)
    thumbnail = clerk.locator(".cw-answers ~ * img, .cw-photos img").first
    expect(thumbnail).to_be_visible()
    doc_screenshot(clerk, "reviewers-case", full_page=True)

    returning = clerk.locator("#cw-return")
    returning.get_by_label("写真", exact=False).first.check()
    returning.locator("textarea").fill("穴の全体が写るように、少し離れて撮り直してください。")
    doc_screenshot(clerk, "reviewers-return")
    returning.get_by_role("button", name="返戻").click()
    expect(clerk.locator(".cw-status")).to_have_text("返戻")

    message = last_bot_message(resident)
    expect(message).to_contain_text("穴の全体が写るように")
    doc_screenshot(resident, "reviewers-line-correction-request")
    resident.get_by_test_id("quick-reply").filter(has_text="修正する").click()
    expect(last_bot_message(resident)).to_contain_text("現場の写真を送ってください")
    summaries = resident.get_by_test_id("flex-bubble")
    before = summaries.count()  # the first submission's summary is in the chat too
    with resident.expect_file_chooser() as chooser:
        resident.get_by_test_id("quick-reply").and_(
            resident.locator("[data-action-type=cameraRoll]")
        ).click()
    chooser.value.set_files(
        files=[{"name": "road.jpg", "mimeType": "image/jpeg", "buffer": photo("#bdbdbd")}]
    )
    expect(summaries).to_have_count(before + 1)
    summary = summaries.last
    summary.get_by_test_id("flex-button").filter(has_text="送信").click()
    expect(last_bot_message(resident)).to_contain_text("修正を受け付けました")
    doc_screenshot(resident, "reviewers-line-corrected")

    clerk.reload()
    expect(clerk.locator(".cw-status")).to_have_text("対応中")  # a report: not 審査中
    corrected = clerk.locator("[data-kind=corrected]")
    expect(corrected.locator(".cw-before img")).to_be_visible()
    expect(corrected.locator(".cw-after img")).to_be_visible()
    corrected.scroll_into_view_if_needed()
    doc_screenshot(clerk, "reviewers-revision", full_page=True)

    status = clerk.locator("#cw-status")
    status.locator("select").select_option("completed")
    status.locator("textarea").fill("穴を舗装しました。")
    status.locator("input[type=file]").set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": repaired()}
    )
    doc_screenshot(clerk, "reviewers-report-done")
    status.get_by_role("button", name="変更").click()
    expect(clerk.locator(".cw-status")).to_have_text("完了")
    expect(clerk.locator(".cw-report-photos [data-kind=after] img")).to_be_visible()

    expect(last_bot_message(resident)).to_contain_text("対応が完了しました")
    expect(last_bot_message(resident)).to_contain_text("穴を舗装しました。")
    expect(last_bot_message(resident)).to_contain_text(submission.reference)
    after = resident.locator("[data-testid=message][data-direction=out] .bubble.media img").last
    expect(after).to_be_visible()
    assert after.evaluate("img => img.naturalWidth") > 0  # the signed address served it
    last_bot_message(resident).scroll_into_view_if_needed()  # below the photo, once loaded
    doc_screenshot(resident, "reviewers-line-report-done")
    with scopes_disabled():
        submission.refresh_from_db()
        assert submission.status == "completed"
        assert submission.revisions.count() == 2
        assert ResidentUpload.objects.filter(submission=submission).count() == 2
        assert submission.report.photos.filter(kind="after").count() == 1
