"""A resident completes a report by clicking in the LINE simulator's chat page.

Every click goes the production path: the page → the simulator's JSON API → a signed
webhook → the engine (eager Celery) → the real SDK → the emulated Messaging API → the
transcript the page polls. Screenshots of the key moments are kept as CI artifacts.
"""

import io

import pytest
from django_scopes import scopes_disabled
from PIL import Image
from playwright.sync_api import expect

from procedures.models import ResidentUpload, Submission
from procedures.services import procedure_create, procedure_publish
from tests.delivery.line_world import CHANNEL_ID, line_world  # noqa: F401 (fixture)
from tests.procedures.docs import pet_registration

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    # line_world binds the city to a simulator channel on the live server, with eager Celery.
    pytest.mark.usefixtures("line_world", "eager_celery"),
]

CITY_HALL = (35.689487, 139.691706)  # the chat page's first preset place, 市役所


def road_report() -> dict:
    """A report with one of each input the chat page offers: tap, date, photo, place."""
    document = pet_registration(key="road-report", triggers={"keywords": ["道路の通報"]})
    document["title"] = {"ja": "道路の損傷通報", "en": "Road damage report"}
    document["fee"] = 0
    document["steps"] = [
        _step("kind", "choice", "種類", "種類を選んでください", options=["穴", "標識"]),
        _step("found_on", "date", "発見日", "見つけた日を選んでください"),
        _step("photo", "image", "写真", "写真を送ってください"),
        _step("place", "location", "場所", "場所を送ってください"),
        {"id": "confirm", "type": "confirm"},
    ]
    return document


def _step(step_id: str, kind: str, label: str, prompt: str, options=()) -> dict:
    step = {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": prompt}}
    if options:
        values = {"穴": "pothole", "標識": "sign"}
        step["options"] = [{"value": values[o], "label": {"ja": o}} for o in options]
    return step


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="JPEG")
    return buffer.getvalue()


def last_bot_message(page):
    return page.locator("[data-testid=message][data-direction=out]").last


def quick_reply(page, *, text: str | None = None, action: str | None = None):
    buttons = page.get_by_test_id("quick-reply")
    if action:
        buttons = buttons.and_(page.locator(f"[data-action-type={action}]"))
    return buttons.filter(has_text=text) if text else buttons


def test_resident_completes_a_report_by_clicking_in_the_chat_page(
    page, live_server, city, designer, screenshot
):
    procedure = procedure_create(actor=designer, municipality=city, document=road_report())
    procedure_publish(actor=designer, procedure=procedure)

    page.goto(f"{live_server.url}/simulator/")
    page.get_by_test_id("channel-select").select_option(CHANNEL_ID)
    page.get_by_test_id("new-user-name").fill("山田 花子")
    page.get_by_test_id("create-user").click()
    expect(page.get_by_test_id("user-select").locator("option:checked")).to_have_text("山田 花子")
    expect(page.get_by_test_id("friendship-status")).to_have_text("未追加")
    expect(page.get_by_test_id("chat-title")).to_have_text("デモ市公式LINE")

    page.get_by_test_id("follow-button").click()
    expect(page.get_by_test_id("friendship-status")).to_have_text("友だち")
    expect(page.get_by_test_id("system-note")).to_have_text("友だち追加しました")
    expect(last_bot_message(page)).to_be_visible()
    screenshot(page, "line-chat-01-followed")

    page.get_by_test_id("text-input").fill("道路の通報")
    page.get_by_test_id("send-button").click()
    expect(last_bot_message(page)).to_contain_text("種類を選んでください")
    screenshot(page, "line-chat-02-choice")
    quick_reply(page, text="穴").click()

    picker = quick_reply(page, action="datetimepicker")
    expect(last_bot_message(page)).to_contain_text("見つけた日を選んでください")
    picker.click()
    expect(page.get_by_test_id("datetime-dialog")).to_be_visible()
    page.get_by_test_id("datetime-input").fill("2026-11-20")
    screenshot(page, "line-chat-03-datetime-picker")
    page.get_by_test_id("datetime-submit").click()

    expect(last_bot_message(page)).to_contain_text("写真を送ってください")
    with page.expect_file_chooser() as chooser:
        quick_reply(page, action="cameraRoll").click()
    chooser.value.set_files(
        files=[{"name": "pothole.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}]
    )
    expect(page.locator("[data-direction=in] img")).to_be_visible()

    expect(last_bot_message(page)).to_contain_text("場所を送ってください")
    screenshot(page, "line-chat-04-photo-sent")
    quick_reply(page, action="location").click()
    expect(page.get_by_test_id("location-dialog")).to_be_visible()
    page.get_by_test_id("location-preset").first.click()

    confirmation = page.get_by_test_id("flex-bubble").last
    expect(confirmation).to_be_visible()
    screenshot(page, "line-chat-05-confirmation")
    confirmation.get_by_test_id("flex-button").filter(has_text="送信").click()

    expect(last_bot_message(page)).to_contain_text("受付番号", timeout=15_000)
    with scopes_disabled():
        submission = Submission.objects.get()
        upload = ResidentUpload.objects.get()
    expect(page.get_by_test_id("message-list")).to_contain_text(
        f"受付番号 {submission.reference} で受け付けました"
    )
    screenshot(page, "line-chat-06-reference-number")
    assert submission.answers["kind"] == "pothole"
    assert submission.answers["found_on"] == "2026-11-20"
    assert submission.answers["place"]["latitude"] == pytest.approx(CITY_HALL[0])
    assert submission.answers["place"]["longitude"] == pytest.approx(CITY_HALL[1])
    assert upload.submission == submission
