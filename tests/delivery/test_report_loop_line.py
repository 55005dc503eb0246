"""A report (通報) end to end through the simulator, with the real line-bot-sdk client: a
resident reports a pothole with a photo and the place, a reviewer marks it 対応中 and then
完了 with an after photo, and the resident receives both messages and the picture, whose
signed address serves the photo (and nothing once altered)."""

import io
import json
import urllib.error
import urllib.request

import pytest
from django_scopes import scopes_disabled
from PIL import Image

from govtech.tenancy import tenant_scope
from procedures.catalog.starters import STARTER_DIR
from procedures.incidents.models import Report, ReportCategory, ReportPhoto
from procedures.incidents.photos import after_photo_clean, report_transition
from procedures.models import Submission
from procedures.services import procedure_create, procedure_publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def road_category(city, designer):
    document = json.loads((STARTER_DIR / "road-damage.json").read_text(encoding="utf-8"))
    procedure = procedure_create(actor=designer, municipality=city, document=document)
    procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        return ReportCategory.objects.create(
            municipality=city, key="road", name="道路", procedure=procedure
        )


def jpeg(colour: str, size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - live server
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", b""


def report_a_pothole(resident) -> Submission:
    resident.say("道路")
    resident.received()
    resident.tap("路面の穴・陥没")
    resident.received()
    resident.location(35.4887, 139.4075, "デモ市役所前")
    resident.received()
    resident.photo(jpeg("gray"))
    resident.received()
    resident.tap("いいえ")  # no danger
    resident.received()
    resident.tap("いいえ")  # no call back
    resident.received()
    resident.tap("送信")
    resident.received()
    with scopes_disabled():
        return Submission.objects.select_related("report").get(resident__isnull=False)


def test_a_reporter_hears_of_work_started_and_done_with_the_after_photo(
    line_world, city, road_category, reviewer
):
    hanako = line_world()
    hanako.follow()
    hanako.received()
    submission = report_a_pothole(hanako)
    assert f"通報ありがとうございました（受付番号 {submission.reference}）。" in hanako.texts()
    with scopes_disabled():
        report = Report.objects.get(submission=submission)
        assert report.category == road_category and report.latitude == pytest.approx(35.4887)
        assert report.photos.filter(kind="resident").count() == 1

    with tenant_scope(city):
        report_transition(actor=reviewer, submission=submission, to="in_review")
    started = hanako.received()
    assert [m["type"] for m in started] == ["text"]
    assert "対応を始めました" in started[0]["text"] and submission.reference in started[0]["text"]
    hanako.say("申請状況")
    assert "状況: 対応中" in json.dumps(hanako.received(), ensure_ascii=False)

    with tenant_scope(city):
        report_transition(
            actor=reviewer,
            submission=submission,
            to="completed",
            photo=after_photo_clean(jpeg("green")),
        )
    done = hanako.received()
    assert [m["type"] for m in done] == ["image", "text"]
    assert "対応が完了しました" in done[1]["text"]
    assert done[1]["quickReply"]["items"][0]["action"]["label"] == "この通報を見る"

    # LINE fetches both addresses itself, without credentials: they serve the cleaned photo.
    image = done[0]
    status, content_type, body = fetch(image["originalContentUrl"])
    assert (status, content_type) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(body)).getpixel((10, 10))[1] > 100  # the green photo
    status, _type, preview = fetch(image["previewImageUrl"])
    assert status == 200 and Image.open(io.BytesIO(preview)).width <= 240
    assert fetch(image["originalContentUrl"].replace("/report-photos/", "/report-photos/x"))[0] == (
        404
    )

    with scopes_disabled():
        report.refresh_from_db()
        submission.refresh_from_db()
        assert submission.status == "completed" and report.closed_at is not None
        after = ReportPhoto.objects.get(report=report, kind="after")
        assert after.is_public is False

    hanako.say("申請状況")
    cards = [m for m in hanako.received() if m["type"] == "flex"]
    texts = json.dumps(cards, ensure_ascii=False)
    assert "状況: 完了" in texts and submission.reference in texts
