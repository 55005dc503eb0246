"""Procedures, bookings and reports through the back-office API, and the walk over every
endpoint: a token of one department or town gets nothing of another."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from reports.backoffice.urls import urlpatterns
from tests.reports.backoffice.conftest import _book, issue
from tests.reports.public.world import HANAKO, report_by_line

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- procedures --------------------------------------------------------------------------


def test_published_procedures_are_listed_with_their_department(world, reader):
    keys = [row["key"] for row in _rows(reader.get("procedures/"))]
    assert keys == ["dog-change", "harassment-report", "road-report"]
    pets = _rows(reader.get("procedures/"))[0]
    assert pets["title"] == "犬の登録事項変更届" and pets["version"] == 1
    assert pets["department"] == {"code": "kankyo", "name": "環境課"}


def test_a_procedure_detail_has_its_published_definition(world, reader):
    detail = reader.get("procedures/dog-change/").json()
    assert detail["definition"]["format"] == "govtech.procedure.v1"
    assert [step["id"] for step in detail["definition"]["steps"]][:2] == ["owner", "change"]


def test_a_department_token_sees_its_procedures_only(world, kankyo_only, outsider_api):
    assert [row["key"] for row in _rows(kankyo_only.get("procedures/"))] == ["dog-change"]
    assert kankyo_only.get("procedures/road-report/").status_code == 404
    assert _rows(outsider_api.get("procedures/")) == []
    assert outsider_api.get("procedures/dog-change/").status_code == 404


# --- bookings ------------------------------------------------------------------------------


def test_bookings_are_listed_by_slot_and_filtered(world, reader):
    rows = _rows(reader.get("bookings/"))
    assert [(row["resource"]["key"], row["name"]) for row in rows] == [
        ("kaigishitsu", "鈴木一郎"),
        ("hall", "高橋二郎"),
    ]
    assert rows[0]["starts_at"] == "2026-12-02T10:00:00+09:00"
    assert len(_rows(reader.get("bookings/", resource="hall"))) == 1
    assert len(_rows(reader.get("bookings/", date_from="2026-12-02", date_to="2026-12-02"))) == 2
    assert _rows(reader.get("bookings/", date_from="2026-12-03")) == []
    assert _rows(reader.get("bookings/", status="cancelled")) == []


def test_reading_bookings_writes_one_audit_entry(world, reader):
    reader.get("bookings/")
    with tenant_scope(world.municipality):
        (entry,) = AuditLogEntry.objects.filter(action="reports.apitoken.read_bookings")
    assert sorted(entry.data["bookings"]) == sorted(b.pk for b in world.bookings)
    assert entry.actor_label.startswith("api-token:")


def test_a_department_token_sees_its_resources_bookings_only(world, kankyo_only, outsider_api):
    assert [row["name"] for row in _rows(kankyo_only.get("bookings/"))] == ["鈴木一郎"]
    assert _rows(outsider_api.get("bookings/")) == []


def test_the_booking_list_costs_the_same_queries_for_more_rows(world, reader):
    with CaptureQueriesContext(connection) as few:
        assert len(_rows(reader.get("bookings/"))) == 2
    hall = world.bookings[1].resource
    for n in range(2):
        _book(hall, f"line:test:Umore{n}", f"追加{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(_rows(reader.get("bookings/"))) == 4
    assert len(many) == len(few)


# --- reports --------------------------------------------------------------------------------


def test_reports_are_listed_with_category_status_and_place(world, reader):
    (row,) = _rows(reader.get("reports/"))
    assert row["reference"] == world.report.submission.reference
    assert row["category"] == {"key": "road", "name": "道路"}
    assert (row["latitude"], row["longitude"]) == (35.681236, 139.767125)
    assert row["status_label"] == "受付"


def test_reports_are_filtered_by_category_status_and_box(world, reader):
    assert len(_rows(reader.get("reports/", category="road"))) == 1
    assert _rows(reader.get("reports/", category="harassment")) == []
    assert _rows(reader.get("reports/", status="completed")) == []
    assert len(_rows(reader.get("reports/", bbox="35.6,139.7,35.7,139.8"))) == 1
    assert _rows(reader.get("reports/", bbox="34.0,135.0,34.1,135.1")) == []
    assert reader.get("reports/", bbox="north").status_code == 400


def test_the_report_list_costs_the_same_queries_for_more_rows_and_is_audited(world, reader):
    with CaptureQueriesContext(connection) as few:
        assert len(_rows(reader.get("reports/"))) == 1
    report_by_line(world.municipality, HANAKO, keyword="相談通報")
    with CaptureQueriesContext(connection) as many:
        assert len(_rows(reader.get("reports/"))) == 2
    assert len(many) == len(few)
    with tenant_scope(world.municipality):
        entries = AuditLogEntry.objects.filter(action="reports.apitoken.read_reports")
        assert [len(entry.data["reports"]) for entry in entries.order_by("pk")] == [1, 2]


def test_a_department_token_sees_its_reports_only(world, kankyo_only, outsider_api):
    assert _rows(kankyo_only.get("reports/")) == []
    assert _rows(outsider_api.get("reports/")) == []


# --- every endpoint ---------------------------------------------------------------------------


def _every_endpoint(world) -> list[tuple[str, str]]:
    """(method, path) of every back-office endpoint, on the city's rows."""
    report = world.report.submission
    with tenant_scope(world.municipality):
        upload_id = report.uploads.get().pk
    return [
        ("get", reverse("backoffice-procedure-list")),
        ("get", reverse("backoffice-procedure-detail", args=["road-report"])),
        ("get", reverse("backoffice-submission-list")),
        ("get", reverse("backoffice-submission-detail", args=[report.reference])),
        ("post", reverse("backoffice-submission-status", args=[report.reference])),
        ("get", reverse("backoffice-submission-attachment", args=[report.reference, upload_id])),
        ("get", reverse("backoffice-booking-list")),
        ("get", reverse("backoffice-report-list")),
    ]


def test_the_walk_covers_every_back_office_endpoint(world):
    walked = {resolve(path).url_name for _method, path in _every_endpoint(world)}
    assert walked == {pattern.name for pattern in urlpatterns}


@pytest.mark.parametrize("who", ["outsider_api", "road_token_of_kankyo"])
def test_a_token_of_another_town_or_department_gets_nothing_anywhere(world, who, request, api):
    if who == "outsider_api":
        caller = request.getfixturevalue("outsider_api")
    else:  # 環境課 only: the report (道路課) and its photo are out of reach
        caller = api(issue(world.municipality, scope="write", departments=(world.kankyo,)))
    for method, path in _every_endpoint(world):
        if method == "post":
            response = caller.client.post(
                path,
                {"status": "in_review"},
                content_type="application/json",
                headers=caller.headers,
            )
        else:
            response = caller.client.get(path, headers=caller.headers)
        body = response.content.decode()
        if response.status_code == 200:
            assert world.report.submission.reference not in body, path
            assert "road-report" not in body and "高橋二郎" not in body, path
        else:
            assert response.status_code == 404, (path, response.status_code)
    with tenant_scope(world.municipality):
        world.report.submission.refresh_from_db()
    assert world.report.submission.status == "submitted"
