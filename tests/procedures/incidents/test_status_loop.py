"""The report status loop in the console: 受付 → 対応中 → 完了 or 対応不可 with a reason,
report wording for staff and residents, the after photo (checked, signed address that
expires), closing the report, the public approval of photos and the category change."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.casework import workflow
from procedures.casework.services import CaseRefused, case_transition
from procedures.incidents.models import Report, ReportCategory, ReportPhoto
from procedures.incidents.photos import after_photo_url
from procedures.models import Notice
from tests.procedures.incidents.test_routing import (
    INSIDE,
    category_for,
    report_procedure,  # noqa: F401 - fixture
    roads,  # noqa: F401 - fixture
    send_report,
)

pytestmark = pytest.mark.django_db


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (800, 600), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make: must not survive
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif)
    return output.getvalue()


@pytest.fixture
def report_submission(city, report_procedure, roads):  # noqa: F811
    category_for(city, report_procedure, roads)
    return send_report(city, INSIDE)


def page(submission) -> str:
    return reverse("admin:procedures_submission_change", args=[submission.pk])


def post_status(client, submission, to, **extra):
    return client.post(
        reverse("admin:procedures_submission_status", args=[submission.pk]),
        {"to": to, "expected": submission.status, "notify": "on", **extra},
    )


def test_a_report_needs_no_approval_and_reads_as_a_report(
    client, city, reviewer, report_submission
):
    client.force_login(reviewer)
    body = client.get(page(report_submission)).content.decode()
    assert '<option value="in_review">対応中</option>' in body
    assert '<option value="completed">完了</option>' in body
    assert '<option value="rejected">対応不可</option>' in body
    assert 'value="accepted"' not in body
    with tenant_scope(city):
        case_transition(actor=reviewer, submission=report_submission, to="in_review")
    inbox = client.get(reverse("admin:procedures_submission_changelist") + "?queue=all")
    assert "対応中" in inbox.content.decode()
    with tenant_scope(city), pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=report_submission, to="accepted")


def test_an_application_keeps_its_own_workflow_and_labels(city, reviewer, report_submission):
    assert workflow.status_label("in_review") == "審査中"
    assert workflow.status_label("in_review", workflow.REPORT) == "対応中"
    assert "accepted" in workflow.default_transitions("")["submitted"]
    assert "accepted" not in workflow.default_transitions(workflow.REPORT)["submitted"]


def test_work_started_done_and_cannot_be_done_are_told_with_the_reason(
    city,
    reviewer,
    report_submission,
    notices,
):
    with tenant_scope(city):
        started = case_transition(actor=reviewer, submission=report_submission, to="in_review")
        text = Notice.objects.get(pk=started.notice_id).prompts[0]["text"]
        assert "対応を始めました" in text and report_submission.reference in text
        other = send_report(city, INSIDE, "B")
        refused = case_transition(
            actor=reviewer, submission=other, to="rejected", reason="私有地のため"
        )
        text = Notice.objects.get(pk=refused.notice_id).prompts[0]["text"]
        assert "対応できませんでした" in text and "理由: 私有地のため" in text
        assert Report.objects.get(submission=other).closed_at is not None


def test_the_after_photo_is_cleaned_stored_and_sent_with_the_message(
    client, city, reviewer, report_submission, notices
):
    client.force_login(reviewer)
    photo = SimpleUploadedFile("after.jpg", jpeg_with_exif(), content_type="image/jpeg")
    response = post_status(
        client, report_submission, "completed", photo=photo, reason="穴を舗装しました"
    )
    assert response.status_code == 302
    with tenant_scope(city):
        report = Report.objects.get(submission=report_submission)
        after = ReportPhoto.objects.get(report=report, kind="after")
        assert report.closed_at is not None and after.is_public is False
        with after.file.open("rb") as file, Image.open(file) as stored:
            assert not stored.getexif()  # EXIF gone: re-encoded from pixels
        event = report_submission.events.get(kind="status")
        prompts = Notice.objects.get(pk=event.notice_id).prompts
    assert [p["kind"] for p in prompts] == ["image", "text"]
    assert "対応が完了しました" in prompts[1]["text"]
    assert prompts[1]["text"].endswith("\n\n穴を舗装しました")
    anonymous = Client()
    served = anonymous.get(prompts[0]["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content)  # read to the end: that closes the file
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="procedures.report.after_photo_added").exists()


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_changes(
    client, city, reviewer, report_submission
):
    client.force_login(reviewer)
    fake = SimpleUploadedFile("after.jpg", b"not an image", content_type="image/jpeg")
    response = post_status(client, report_submission, "completed", photo=fake)
    assert response.status_code == 302
    with tenant_scope(city):
        report_submission.refresh_from_db()
        assert report_submission.status == "submitted"
        assert not ReportPhoto.objects.filter(kind="after").exists()


def test_the_signed_address_expires_and_serves_no_resident_photo(
    client, city, reviewer, report_submission
):
    with tenant_scope(city):
        report = Report.objects.get(submission=report_submission)
        after = ReportPhoto.objects.create(
            municipality=city,
            report=report,
            kind="after",
            file="reports/x/none.jpg",
            created_at=timezone.now(),
        )
        url = after_photo_url(after, preview=False).removeprefix("http://127.0.0.1:8000")
        ReportPhoto.objects.filter(pk=after.pk).update(kind="resident")
    assert client.get(url).status_code == 404  # only after photos are ever served
    with tenant_scope(city):
        ReportPhoto.objects.filter(pk=after.pk).update(kind="after")
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert client.get(url).status_code == 404


def test_staff_approve_a_photo_for_the_public_and_change_the_category(
    client, city, reviewer, report_submission
):
    with tenant_scope(city):
        report = Report.objects.get(submission=report_submission)
        after = ReportPhoto.objects.create(
            municipality=city,
            report=report,
            kind="after",
            file="reports/x/none.jpg",
            created_at=timezone.now(),
        )
        park = ReportCategory.objects.create(municipality=city, key="park", name="公園")
    client.force_login(reviewer)
    url = reverse("admin:procedures_submission_report_photo", args=[report_submission.pk, after.pk])
    assert client.post(url, {"public": "1"}).status_code == 302
    url = reverse("admin:procedures_submission_report_category", args=[report_submission.pk])
    assert client.post(url, {"category": park.pk}).status_code == 302
    url = reverse("admin:procedures_submission_report_note", args=[report_submission.pk])
    assert client.post(url, {"text": "12月に補修予定"}).status_code == 302
    with tenant_scope(city):
        report.refresh_from_db()
        after.refresh_from_db()
    assert after.is_public and after.approved_by == reviewer
    assert report.category == park and report.public_note == "12月に補修予定"
    with tenant_scope(city):
        actions = set(AuditLogEntry.objects.values_list("action", flat=True))
    assert {
        "procedures.report.photo_published",
        "procedures.report.recategorized",
        "procedures.report.public_note_changed",
    } <= actions


def test_an_outsider_cannot_touch_the_report(client, outsider, report_submission):
    client.force_login(outsider)
    url = reverse("admin:procedures_submission_report_note", args=[report_submission.pk])
    assert client.post(url, {"text": "x"}).status_code == 404
