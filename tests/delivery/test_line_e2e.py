"""A resident completes a procedure in LINE: simulator → signed webhook → engine → real SDK →
emulated Messaging API, all over HTTP on a live server."""

import io

import pytest
from django_scopes import scopes_disabled
from PIL import Image

from delivery.models import Friend, OutboundMessage
from delivery.simulator.models import SimulatorApiCall
from procedures.models import ResidentUpload, Submission
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def report_document() -> dict:
    document = pet_registration(key="road-report", triggers={"keywords": ["道路の通報"]})
    document["title"] = {"ja": "道路の損傷通報", "en": "Road damage report"}
    document["steps"] = [
        {
            "id": "kind",
            "type": "choice",
            "label": {"ja": "種類"},
            "prompt": {"ja": "種類を選んでください"},
            "options": [
                {"value": "pothole", "label": {"ja": "穴"}},
                {"value": "sign", "label": {"ja": "標識"}},
            ],
        },
        {
            "id": "found_on",
            "type": "date",
            "label": {"ja": "発見日"},
            "prompt": {"ja": "見つけた日を選んでください"},
        },
        {
            "id": "photo",
            "type": "image",
            "label": {"ja": "写真"},
            "prompt": {"ja": "写真を送ってください"},
        },
        {
            "id": "place",
            "type": "location",
            "label": {"ja": "場所"},
            "prompt": {"ja": "場所を送ってください"},
        },
        {"id": "confirm", "type": "confirm"},
    ]
    document["fee"] = 0
    return document


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x8825] = {2: (35.0, 41.0, 0.0), 1: "N"}  # GPS IFD
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_resident_completes_a_report_in_line(line_world, city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=report_document())
    procedure_publish(actor=designer, procedure=procedure)
    taro = line_world()

    taro.follow()
    taro.received()
    assert "友だち追加" in taro.texts() or "ありがとう" in taro.texts()

    taro.say("道路の通報")
    taro.received()
    assert "種類を選んでください" in taro.texts()
    taro.tap("穴")
    taro.received()
    assert any(a["type"] == "datetimepicker" for a in taro.quick_replies())
    taro.pick("日付", {"date": "2026-11-20"})
    taro.received()
    assert {"camera", "cameraRoll"} <= {a["type"] for a in taro.quick_replies()}
    calls_before_photo = SimulatorApiCall.objects.count()
    taro.photo(jpeg_with_gps())
    taro.received()
    assert any(a["type"] == "location" for a in taro.quick_replies())
    # The photo's download showed LINE's loading animation (the real SDK against the
    # emulated endpoint), before the download and the answer; no other turn shows it.
    paths = [
        call.path.rsplit("/v2/bot/", 1)[-1]
        for call in SimulatorApiCall.objects.order_by("id")[calls_before_photo:]
    ]
    assert paths[0] == "chat/loading/start"
    assert paths[1].startswith("message/") and paths[1].endswith("/content")
    assert paths[-1] == "message/reply"
    taro.location(35.6812, 139.7671, "東京都千代田区丸の内1丁目")
    messages = taro.received()
    assert messages[-1]["type"] == "flex"
    taro.tap("送信")
    taro.received()

    with scopes_disabled():
        submission = Submission.objects.get()
        upload = ResidentUpload.objects.get()
        friend = Friend.objects.get()
        methods = set(OutboundMessage.objects.values_list("method", flat=True))
    assert submission.reference in taro.texts()
    assert submission.answers["kind"] == "pothole"
    assert submission.answers["found_on"] == "2026-11-20"
    assert submission.answers["place"]["latitude"] == pytest.approx(35.6812)
    assert upload.submission == submission
    with upload.file.open("rb") as handle, Image.open(handle) as stored:
        assert not stored.getexif()  # EXIF (GPS, maker) stripped
    assert friend.resident_id == submission.resident_id
    assert methods == {"reply"}  # every answer went out with the free reply token
    loading = SimulatorApiCall.objects.filter(path__endswith="/v2/bot/chat/loading/start")
    assert list(loading.values_list("status", flat=True)) == [202]  # only the photo's turn


def test_unfollowed_resident_gets_nothing_more(line_world, city, designer):
    taro = line_world()
    taro.follow()
    taro.received()
    taro.unfollow()
    with scopes_disabled():
        friend = Friend.objects.get()
    assert friend.is_following is False
    assert taro.received() == []
