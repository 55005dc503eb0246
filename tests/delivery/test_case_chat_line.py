"""Casework in LINE, end to end through the simulator: a returned application corrected
with a new photo and resubmitted, 「申請状況」 as a Flex carousel the simulator accepts, and
a status message that reaches the resident once across a task run twice and a worker
killed after LINE accepted it."""

import io

import pytest
from django_scopes import scopes_disabled
from PIL import Image

from delivery.models import OutboundMessage, OutboundStatus
from govtech.tenancy import tenant_scope
from procedures.casework.services import case_request_correction, case_transition
from procedures.models import Notice, ResidentUpload, Submission
from procedures.residents.services import notice_send
from procedures.residents.tasks import send_notice
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def dog_procedure(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buffer, format="JPEG")
    return buffer.getvalue()


def apply_for_a_dog(resident, owner="山田太郎") -> Submission:
    resident.say("犬の届出")
    resident.received()
    resident.say(owner)
    resident.received()
    resident.tap("住所")
    resident.received()
    resident.tap("スキップ")
    resident.received()
    resident.tap("送信")
    resident.received()
    with scopes_disabled():
        return Submission.objects.filter(answers__owner=owner).get()


def flex_of(messages: list[dict]) -> dict:
    (flex,) = [message for message in messages if message["type"] == "flex"]
    return flex["contents"]


def test_a_returned_application_is_corrected_in_line_and_listed_as_cards(
    line_world, city, dog_procedure, reviewer
):
    taro = line_world()
    taro.follow()
    taro.received()
    first = apply_for_a_dog(taro)
    second = apply_for_a_dog(taro, owner="山田花子")
    with tenant_scope(city):
        case_request_correction(
            actor=reviewer, submission=first, fields=["photo"], reason="鑑札の写真が必要です"
        )
    assert "鑑札の写真が必要です" in "\n".join(m.get("text", "") for m in taro.received())

    taro.tap("修正する")
    asked = "\n".join(m.get("text", "") for m in taro.received())
    assert "鑑札の写真が必要です" in asked and "鑑札の写真を送ってください" in asked
    taro.photo(jpeg())
    taro.received()
    taro.tap("送信")
    taro.received()
    assert f"修正を受け付けました（受付番号 {first.reference}）" in taro.texts()
    with scopes_disabled():
        first.refresh_from_db()
        upload = ResidentUpload.objects.get(submission=first)
        assert first.status == "in_review" and first.revisions.count() == 2
        assert first.answers["photo"]["ref"] == str(upload.pk)

    taro.say("申請状況")
    carousel = flex_of(taro.received())
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 2
    newest = carousel["contents"][0]["body"]["contents"]
    assert f"受付番号: {second.reference}" in [part["text"] for part in newest]
    oldest = carousel["contents"][1]["body"]["contents"]
    assert "状況: 審査中" in [part["text"] for part in oldest]

    taro.tap("内容を見る")  # the first card's: the newest application
    bubble = flex_of(taro.received())
    assert bubble["type"] == "bubble"
    assert "飼い主の氏名: 山田花子" in [part["text"] for part in bubble["body"]["contents"]]


def test_a_status_message_reaches_the_resident_once_across_a_rerun_and_a_crash(
    line_world, city, dog_procedure, reviewer
):
    taro = line_world()
    taro.follow()
    taro.received()
    submission = apply_for_a_dog(taro)
    with tenant_scope(city):
        event = case_transition(actor=reviewer, submission=submission, to="accepted")
    approved = [m["text"] for m in taro.received()]
    assert len(approved) == 1 and submission.reference in approved[0]

    # The task runs again (a duplicate from the broker): the sent notice is not claimed.
    assert send_notice.delay(event.notice_id, municipality_id=city.pk).get() == (
        "claimed-elsewhere"
    )
    # A worker killed after LINE accepted the push but before it marked the rows sent:
    # the next run pushes with the same retry key and LINE answers 409.
    with scopes_disabled():
        assert Notice.objects.filter(pk=event.notice_id).update(status="pending", sent_at=None)
        notice = Notice.objects.get(pk=event.notice_id)
        assert OutboundMessage.objects.filter(retry_key=notice.retry_key).update(
            status=OutboundStatus.PENDING, sent_at=None
        )
    with tenant_scope(city):
        assert notice_send(notice_id=event.notice_id) == "sent"
    assert taro.received() == []
    everything = [e["message"].get("text", "") for e in taro.transcript()]
    assert sum(approved[0] == text for text in everything) == 1
