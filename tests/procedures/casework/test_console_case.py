"""The case page: what a reviewer reads (answers by label, the resident, the timeline
with revisions and notices) and every action it offers, through the services."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.casework.models import CaseEvent, CorrectionRequest
from procedures.casework.services import (
    case_message,
    case_reply_receive,
    case_request_correction,
    case_resubmit,
    case_transition,
)
from procedures.models import Conversation, Notice, ResidentUpload
from procedures.reservations.models import Booking
from procedures.reservations.services import slot_row
from procedures.residents.models import NoticeStatus
from tests.factories import DepartmentFactory, staff_member
from tests.procedures.casework.console_helpers import (
    ROAD_ANSWERS,
    ROAD_STEPS,
    make_submission,
    photo_answer,
    published,
)
from tests.procedures.reservation_fixtures import make_resource

pytestmark = pytest.mark.django_db


def page(submission) -> str:
    return reverse("admin:procedures_submission_change", args=[submission.pk])


def action(name: str, submission) -> str:
    return reverse(f"admin:procedures_submission_{name}", args=[submission.pk])


@pytest.fixture
def road(city, designer):
    return published(city, designer, "road-damage", "道路の損傷", steps=ROAD_STEPS)


@pytest.fixture
def report(road, city_scope):
    return make_submission(road, resident="A", name="座間花子", answers=dict(ROAD_ANSWERS))


def test_answers_are_labelled_by_the_pinned_version_and_places_show_as_text(
    client, reviewer, report
):
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    assert "損傷の内容" in body and "路面の穴" in body
    assert ">what<" not in body and ">place<" not in body
    assert "座間市緑ケ丘1-1" in body and "35.488000" in body and "139.407000" in body
    assert "座間花子" in body
    assert "3000円" in body


def test_photos_show_as_thumbnails_linking_to_the_full_view(client, city, reviewer, road):
    with tenant_scope(city):
        answers = dict(ROAD_ANSWERS, photo=photo_answer(city, "A"))
        submission = make_submission(road, resident="A", answers=answers)
    client.force_login(reviewer)
    body = client.get(page(submission)).content.decode()
    args = [submission.pk, answers["photo"]["ref"]]
    assert reverse("admin:procedures_submission_photo_thumb", args=args) in body
    assert reverse("admin:procedures_submission_photo", args=args) in body
    thumb = client.get(reverse("admin:procedures_submission_photo_thumb", args=args))
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content)  # read to the end: that closes the file


def test_a_photo_in_a_residents_reply_shows_on_the_timeline(client, city, reviewer, report):
    with tenant_scope(city):
        ref = photo_answer(city, "A", number=7)["ref"]
        upload = ResidentUpload.objects.get(pk=ref)
        case_reply_receive(submission=report, text="これです", upload=upload)
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    assert reverse("admin:procedures_submission_photo_thumb", args=[report.pk, ref]) in body


def test_each_view_of_the_case_page_is_audited(client, reviewer, report):
    client.force_login(reviewer)
    client.get(page(report))
    client.get(page(report))
    entries = AuditLogEntry.objects.filter(action="procedures.submission.viewed")
    assert entries.count() == 2
    assert {e.target_id for e in entries} == {str(report.pk)}


def test_the_timeline_tells_everything_that_happened(client, city, reviewer, report):
    case_transition(actor=reviewer, submission=report, to="in_review")
    message = case_message(actor=reviewer, submission=report, text="写真をもう一枚ください")
    Notice.objects.filter(pk=message.notice_id).update(status=NoticeStatus.FAILED)
    case_reply_receive(submission=report, text="わかりました")
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    for kind in ("submitted", "status", "message_out", "message_in"):
        assert f'data-kind="{kind}"' in body
    assert "受付済み → 審査中" in body
    assert "写真をもう一枚ください" in body and "わかりました" in body
    assert 'data-notice="failed"' in body and "失敗" in body


def test_a_correction_shows_the_fields_and_the_values_before_and_after(
    client, city, reviewer, report
):
    request = case_request_correction(
        actor=reviewer, submission=report, fields=["what"], reason="内容が不明確です"
    )
    conversation = Conversation.objects.create(
        municipality=city,
        resident=report.resident,
        procedure=report.procedure,
        version=report.version,
        status="submitted",
        state={},
        correcting=request,
        updated_at=timezone.now(),
    )
    answers = dict(ROAD_ANSWERS, what="歩道の段差")
    case_resubmit(conversation=conversation, answers=answers, fee=3000, now=timezone.now())
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    assert 'data-kind="correction_requested"' in body and "内容が不明確です" in body
    assert "項目：損傷の内容" in body
    assert 'data-kind="corrected"' in body
    before = body.index('class="cw-before">路面の穴<')
    after = body.index('class="cw-after">歩道の段差<')
    assert before < after
    assert 'data-notice="pending"' in body  # the correction request's message


def test_the_residents_other_submissions_are_listed_when_the_reviewer_may_open_them(
    client, city, designer, reviewer, road, report
):
    parks = DepartmentFactory(municipality=city, code="parks")
    roads = DepartmentFactory(municipality=city, code="roads")
    other_department = published(city, designer, "park-x", "公園", department=parks)
    own_department = published(city, designer, "road-x", "道路占用", department=roads)
    with tenant_scope(city):
        hidden = make_submission(other_department, resident="A")
        shown = make_submission(own_department, resident="A")
        listed = make_submission(own_department, resident="A")
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[roads]
    )
    client.force_login(reviewer)
    body = client.get(page(shown)).content.decode()
    assert "この住民のほかの申請" in body
    assert listed.reference in body
    assert hidden.reference not in body and report.reference not in body


# --- actions -------------------------------------------------------------------------------


def test_changing_the_status_tells_the_resident_and_says_so(client, reviewer, report):
    client.force_login(reviewer)
    data = {"expected": "submitted", "to": "accepted", "notify": "on"}
    response = client.post(action("status", report), data, follow=True)
    report.refresh_from_db()
    assert report.status == "accepted"
    assert "状態を「承認」にしました。" in response.content.decode()
    assert Notice.objects.count() == 1


def test_the_status_can_change_without_telling_the_resident(client, reviewer, report):
    client.force_login(reviewer)
    client.post(action("status", report), {"expected": "submitted", "to": "accepted"})
    report.refresh_from_db()
    assert report.status == "accepted" and Notice.objects.count() == 0


def test_the_status_form_offers_only_the_allowed_next_statuses(client, reviewer, report):
    client.force_login(reviewer)
    form = client.get(page(report)).context["status_form"]
    assert [value for value, _label in form.fields["to"].choices] == [
        "in_review",
        "accepted",
        "rejected",
    ]


def test_rejecting_without_a_reason_is_refused_with_a_message_not_an_error(
    client, reviewer, report
):
    client.force_login(reviewer)
    response = client.post(
        action("status", report), {"expected": "submitted", "to": "rejected"}, follow=True
    )
    assert response.status_code == 200
    assert "理由" in response.content.decode()
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_double_post_of_the_same_status_change_is_one_event_and_one_notice(
    client, reviewer, report
):
    client.force_login(reviewer)
    data = {"expected": "submitted", "to": "accepted", "notify": "on"}
    client.post(action("status", report), data)
    response = client.post(action("status", report), data, follow=True)
    assert response.status_code == 200
    assert CaseEvent.objects.filter(kind="status").count() == 1
    assert Notice.objects.count() == 1
    assert "この申請は他の操作で変更されました（現在「承認」）" in response.content.decode()


def test_returning_asks_the_resident_to_correct_the_ticked_fields(client, reviewer, report):
    client.force_login(reviewer)
    deadline = (timezone.localdate() + timedelta(days=5)).isoformat()
    data = {
        "expected": "submitted",
        "steps": ["photo"],
        "reason": "写真が暗い",
        "deadline": deadline,
    }
    client.post(action("return", report), data)
    request = CorrectionRequest.objects.get()
    assert request.fields == ["photo"] and request.reason == "写真が暗い"
    assert timezone.localtime(request.deadline).date().isoformat() == deadline
    report.refresh_from_db()
    assert report.status == "returned"
    assert Notice.objects.count() == 1


def test_the_return_form_lists_the_questions_by_label(client, reviewer, report):
    client.force_login(reviewer)
    form = client.get(page(report)).context["correction_form"]
    assert dict(form.fields["steps"].choices) == {
        "what": "損傷の内容",
        "place": "場所",
        "photo": "写真",
    }


def test_returning_without_fields_is_refused(client, reviewer, report):
    client.force_login(reviewer)
    response = client.post(
        action("return", report), {"expected": "submitted", "reason": "x"}, follow=True
    )
    assert response.status_code == 200
    assert CorrectionRequest.objects.count() == 0


def test_assigning_to_oneself_and_to_a_colleague(client, city, reviewer, report):
    colleague = staff_member(city, Role.REVIEWER)
    client.force_login(reviewer)
    client.post(action("assign", report), {"me": "1"})
    report.refresh_from_db()
    assert report.assignee == reviewer
    client.post(action("assign", report), {"assignee": colleague.pk})
    report.refresh_from_db()
    assert report.assignee == colleague
    designer_pk = staff_member(city, Role.DESIGNER).pk
    client.post(action("assign", report), {"assignee": designer_pk})
    report.refresh_from_db()
    assert report.assignee == colleague  # a designer cannot be assigned


def test_notes_stay_on_the_timeline_and_messages_reach_the_resident(client, reviewer, report):
    client.force_login(reviewer)
    client.post(action("note", report), {"text": "電話で確認済み"})
    client.post(action("message", report), {"text": "写真をもう一枚お願いします"})
    assert list(CaseEvent.objects.filter(kind="note").values_list("data", flat=True)) == [
        {"text": "電話で確認済み"}
    ]
    assert Notice.objects.count() == 1
    body = client.get(page(report)).content.decode()
    assert "電話で確認済み" in body and "写真をもう一枚お願いします" in body


def test_an_empty_note_is_refused_with_a_message(client, reviewer, report):
    client.force_login(reviewer)
    response = client.post(action("note", report), {"text": "  "}, follow=True)
    assert response.status_code == 200
    assert CaseEvent.objects.filter(kind="note").count() == 0


def test_actions_answer_only_post(client, reviewer, report):
    client.force_login(reviewer)
    for name in ("status", "return", "assign", "note", "message"):
        assert client.get(action(name, report)).status_code == 405


def test_a_booking_made_with_the_submission_shows_with_its_slot(client, city, reviewer, report):
    resource = make_resource(city, name="こども広場")
    starts_at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    slot = slot_row(resource=resource, starts_at=starts_at + timedelta(days=7))
    Booking.objects.create(
        municipality=city, resource=resource, slot=slot, resident=report.resident, submission=report
    )
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    assert "こども広場" in body
    assert timezone.localtime(slot.starts_at).strftime("%Y-%m-%d %H:%M") in body


def test_a_corrected_photo_shows_before_and_after_as_thumbnails(client, city, reviewer, road):
    with tenant_scope(city):
        first = photo_answer(city, "A", number=1)
        report = make_submission(road, resident="A", answers=dict(ROAD_ANSWERS, photo=first))
        request = case_request_correction(
            actor=reviewer, submission=report, fields=["photo"], reason="写真が暗い"
        )
        conversation = Conversation.objects.create(
            municipality=city,
            resident=report.resident,
            procedure=report.procedure,
            version=report.version,
            status="submitted",
            state={},
            correcting=request,
            updated_at=timezone.now(),
        )
        second = photo_answer(city, "A", number=2)
        answers = dict(ROAD_ANSWERS, photo=second)
        case_resubmit(conversation=conversation, answers=answers, fee=3000, now=timezone.now())
    client.force_login(reviewer)
    body = client.get(page(report)).content.decode()
    table = body[body.index('class="cw-changes"') :]
    before = table.index(
        reverse("admin:procedures_submission_photo_thumb", args=[report.pk, first["ref"]])
    )
    after = table.index(
        reverse("admin:procedures_submission_photo_thumb", args=[report.pk, second["ref"]])
    )
    assert before < after
