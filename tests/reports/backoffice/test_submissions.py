"""Submissions through the back-office API: a filtered, paged list at a constant query
cost; the detail with labelled answers, timeline and attachments, audited as the token;
attachments downloaded with the token; status changes by the console's rules, once per
Idempotency-Key. Tokens of another department or town see none of it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.casework.models import CaseEvent
from procedures.models import Submission
from procedures.residents.models import Notice
from tests.procedures.casework.conftest import submit_pet
from tests.reports.backoffice.conftest import Api

pytestmark = pytest.mark.django_db


def _references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


def _audit(city, action: str) -> list[AuditLogEntry]:
    with tenant_scope(city):
        return list(AuditLogEntry.objects.filter(action=action).order_by("pk"))


def test_the_list_shows_every_submission_the_token_reaches_newest_first(world, reader):
    application, report = world.application.reference, world.report.submission.reference
    assert _references(reader.get("submissions/")) == [report, application]
    row = reader.get("submissions/").json()["results"][1]
    assert row["procedure"] == "dog-change"
    assert row["status_label"] == "受付済み"
    assert row["department"] == {"code": "kankyo", "name": "環境課"}
    assert row["url"].endswith(f"/api/v1/submissions/{application}/")
    assert "answers" not in row and "resident" not in row


def test_the_list_is_filtered(world, reader):
    application, report = world.application.reference, world.report.submission.reference
    assert _references(reader.get("submissions/", procedure="dog-change")) == [application]
    assert _references(reader.get("submissions/", status="in_review")) == []
    assert _references(reader.get("submissions/", submitted_from="2026-11-25")) == [report]
    assert _references(reader.get("submissions/", submitted_to="2026-11-24")) == [application]
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    with tenant_scope(world.municipality):
        Submission.objects.filter(pk=world.application.pk).update(last_activity_at=timezone.now())
    assert _references(reader.get("submissions/", updated_since=since)) == [application]
    assert reader.get("submissions/", submitted_from="yesterday").status_code == 400


def test_a_department_token_lists_its_department_only_and_an_outsider_nothing(
    world, kankyo_only, outsider_api
):
    assert _references(kankyo_only.get("submissions/")) == [world.application.reference]
    assert _references(outsider_api.get("submissions/")) == []


def test_the_list_pages_with_a_cursor(world, reader):
    first = reader.get("submissions/", page_size=1).json()
    assert len(first["results"]) == 1 and first["previous"] is None
    second = reader.client.get(first["next"], headers=reader.headers).json()
    assert _references_of(second) == [world.application.reference]
    assert second["next"] is None


def _references_of(page: dict) -> list[str]:
    return [row["reference"] for row in page["results"]]


def test_the_list_costs_the_same_queries_for_more_rows(world, reader):
    with CaptureQueriesContext(connection) as few:
        assert len(_references(reader.get("submissions/"))) == 2
    for n in range(3):
        submit_pet(world.municipality, f"U{n + 10}")
    with CaptureQueriesContext(connection) as many:
        assert len(_references(reader.get("submissions/"))) == 5
    assert len(many) == len(few) <= 6, [q["sql"] for q in many.captured_queries]


def test_the_detail_has_labelled_answers_timeline_and_attachments(world, reader):
    reference = world.report.submission.reference
    detail = reader.get(f"submissions/{reference}/").json()
    answers = {row["id"]: row for row in detail["answers"]}
    assert answers["kind"]["label"] == "種類" and answers["kind"]["text"] == "路面の穴"
    assert answers["detail"]["value"] == "山田さん宅の前の穴"
    assert detail["resident"]["name"] == "山田太郎"
    assert [entry["kind"] for entry in detail["timeline"]] == ["submitted"]
    assert detail["status_label"] == "受付"
    (attachment,) = detail["attachments"]
    assert attachment["step"] == "photo" and attachment["content_type"] == "image/jpeg"
    assert "in_review" in detail["next_statuses"]


def test_reading_a_detail_writes_one_audit_entry_naming_the_token(world, reader):
    reference = world.application.reference
    assert reader.get(f"submissions/{reference}/").status_code == 200
    (entry,) = _audit(world.municipality, "reports.apitoken.read_submission")
    assert entry.actor is None and entry.actor_label.startswith("api-token:gtb_")
    assert entry.actor_label.endswith("kintone") and entry.target_label == reference


def test_another_department_or_town_gets_the_same_404_as_a_missing_one(
    world, kankyo_only, outsider_api
):
    report = world.report.submission.reference
    missing = kankyo_only.get("submissions/DC-2099-999999/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert kankyo_only.get(f"submissions/{report}/").json() == missing.json()
    for path in (f"submissions/{report}/", f"submissions/{world.application.reference}/"):
        assert outsider_api.get(path).json() == missing.json()
    assert _audit(world.municipality, "reports.apitoken.read_submission") == []


def test_an_attachment_is_downloaded_with_the_token_and_audited(world, reader):
    detail = reader.get(f"submissions/{world.report.submission.reference}/").json()
    url = detail["attachments"][0]["url"]
    response = reader.client.get(url, headers=reader.headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    (entry,) = _audit(world.municipality, "reports.apitoken.read_attachment")
    assert entry.data["upload"] == detail["attachments"][0]["id"]
    assert Api(None).client.get(url).status_code == 401


def test_an_attachment_of_another_department_or_town_is_a_404(
    world, reader, kankyo_only, outsider_api
):
    detail = reader.get(f"submissions/{world.report.submission.reference}/").json()
    url = detail["attachments"][0]["url"]
    for api in (kankyo_only, outsider_api):
        assert api.client.get(url, headers=api.headers).status_code == 404
    other = url.replace(detail["attachments"][0]["id"], "00000000-0000-0000-0000-000000000000")
    assert reader.client.get(other, headers=reader.headers).status_code == 404


# --- status changes -------------------------------------------------------------------------


def _status_path(submission) -> str:
    return f"submissions/{submission.reference}/status/"


def test_a_write_token_changes_the_status_like_a_reviewer(world, writer):
    response = writer.post(
        _status_path(world.application), {"status": "accepted", "expected_status": "submitted"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["previous_status"], body["status"], body["notified"]) == (
        "submitted",
        "accepted",
        True,
    )
    with tenant_scope(world.municipality):
        submission = Submission.objects.get(pk=world.application.pk)
        event = CaseEvent.objects.filter(submission=submission, kind="status").get()
        notice = Notice.objects.get(pk=event.notice_id)
    assert submission.status == "accepted"
    assert event.actor is None and event.data["via"]["label"].startswith("api-token:")
    assert "を承認しました" in str(notice.prompts)
    (entry,) = _audit(world.municipality, "procedures.submission.status_changed")
    assert entry.actor_label.startswith("api-token:") and entry.data["to"] == "accepted"


def test_the_workflow_rules_of_the_console_apply(world, writer):
    refused = writer.post(_status_path(world.application), {"status": "completed"})
    assert refused.status_code == 409 and refused.json()["code"] == "transition_refused"
    no_reason = writer.post(_status_path(world.application), {"status": "rejected"})
    assert no_reason.status_code == 409
    stale = writer.post(
        _status_path(world.application), {"status": "accepted", "expected_status": "in_review"}
    )
    assert stale.status_code == 409
    assert writer.post(_status_path(world.application), {"status": "done"}).status_code == 400


def test_a_read_only_token_may_not_change_a_status(world, reader):
    response = reader.post(_status_path(world.application), {"status": "accepted"})
    assert response.status_code == 403
    assert response.json()["code"] == "token_read_only"
    with tenant_scope(world.municipality):
        assert Submission.objects.get(pk=world.application.pk).status == "submitted"


def test_a_status_change_elsewhere_is_a_404(world, kankyo_only, outsider_api):
    assert (
        kankyo_only.post(_status_path(world.report.submission), {"status": "in_review"}).status_code
        == 404
    )
    assert (
        outsider_api.post(_status_path(world.application), {"status": "accepted"}).status_code
        == 404
    )
    with tenant_scope(world.municipality):
        assert not CaseEvent.objects.filter(kind="status").exists()


def test_the_same_idempotency_key_changes_once_and_answers_the_same(world, writer):
    path = _status_path(world.application)
    first = writer.post(path, {"status": "in_review"}, **{"Idempotency-Key": "k-1"})
    again = writer.post(path, {"status": "in_review"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    with tenant_scope(world.municipality):
        assert CaseEvent.objects.filter(kind="status").count() == 1
    other = writer.post(path, {"status": "accepted"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_refused_change_does_not_use_up_its_idempotency_key(world, writer):
    path = _status_path(world.application)
    stale = {"status": "accepted", "expected_status": "in_review"}
    assert writer.post(path, stale, **{"Idempotency-Key": "k-2"}).status_code == 409
    writer.post(path, {"status": "in_review"})
    assert writer.post(path, stale, **{"Idempotency-Key": "k-2"}).status_code == 200
