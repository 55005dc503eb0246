"""The console pages of exports: the form, a small CSV streamed at once, the job's page
and its polling, the download, a submission's PDF — and who may reach each of them."""

from __future__ import annotations

import csv
import io

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from reports.models import ExportJob, ScheduledExport
from tests.factories import staff_member as staff_member_without_mfa
from tests.reports.conftest import submit


@pytest.fixture(autouse=True)
def _eager(eager_celery):
    return eager_celery


@pytest.fixture
def submission(pets):
    return submit(pets, 3, {"owner": "山田太郎", "breed": "shiba", "colors": ["white"]})


@pytest.fixture
def job(city, admin_user, pets, submission, client, django_capture_on_commit_callbacks):
    """A finished XLSX export of the admin's."""
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(exports_url(), {"procedure": pets.pk, "format": "xlsx"})
    assert response.status_code == 302
    client.logout()
    with tenant_scope(city):
        return ExportJob.objects.get()


def staff_member(municipality, role):
    """A staff member able to sign in to the console (admins must have a second factor)."""
    user = staff_member_without_mfa(municipality, role)
    if role == Role.ADMIN:
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


def exports_url() -> str:
    return reverse("admin:reports_exports")


def audited(city, action: str) -> list[AuditLogEntry]:
    with tenant_scope(city):
        return list(AuditLogEntry.objects.filter(action=action))


def urls_of(job, submission, pets) -> list[tuple[str, str, dict]]:
    """Every export URL that names something of the city, with its method and data."""
    return [
        ("post", exports_url(), {"procedure": pets.pk, "format": "csv_utf8"}),
        ("post", exports_url(), {"procedure": pets.pk, "format": "xlsx"}),
        ("get", reverse("admin:reports_export_job", args=[job.pk]), {}),
        ("get", reverse("admin:reports_export_job", args=[job.pk]), {"poll": "1"}),
        ("get", reverse("admin:reports_export_download", args=[job.pk]), {}),
        ("get", reverse("admin:reports_submission_pdf", args=[submission.pk]), {}),
    ]


def test_the_exports_page_takes_the_inboxs_filters_from_the_query_string(client, reviewer, pets):
    client.force_login(reviewer)
    query = {"procedure": pets.pk, "status": "accepted", "submitted_from": "2026-11-01"}
    body = client.get(exports_url(), query).content.decode()
    assert f'<option value="{pets.pk}" selected>' in body
    assert '<option value="accepted" selected>' in body and 'value="2026-11-01"' in body
    assert "個人情報の列を除く" in body


def test_a_small_utf8_csv_streams_at_once_and_is_audited(client, reviewer, city, pets, submission):
    client.force_login(reviewer)
    response = client.post(exports_url(), {"procedure": pets.pk, "format": "csv_utf8"})
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == submission.reference and "山田太郎" in rows[1]
    [entry] = audited(city, "reports.export.streamed")
    assert entry.actor == reviewer and entry.data["filters"] == {"procedure": str(pets.pk)}
    with tenant_scope(city):
        assert not ExportJob.objects.exists()


def test_an_xlsx_export_is_a_job_whose_page_shows_progress_and_the_download(
    client, admin_user, city, job
):
    client.force_login(admin_user)
    page = client.get(reverse("admin:reports_export_job", args=[job.pk])).content.decode()
    download = reverse("admin:reports_export_download", args=[job.pk])
    assert download in page and "書き出した件数: 1 件" in page
    assert 'http-equiv="refresh"' not in page  # finished: no more refreshing
    state = client.get(reverse("admin:reports_export_job", args=[job.pk]), {"poll": "1"}).json()
    assert (state["status"], state["percent"], state["rows"]) == ("done", 100, 1)
    [requested] = audited(city, "reports.export.requested")
    assert (requested.actor, requested.target_id) == (admin_user, str(job.pk))


def test_a_running_job_page_refreshes_itself_without_javascript(client, admin_user, city, pets):
    with tenant_scope(city):
        running = ExportJob.objects.create(
            municipality=city,
            created_by=admin_user,
            procedure=pets,
            format="xlsx",
            status="running",
            total=200,
            progress=50,
        )
    client.force_login(admin_user)
    page = client.get(reverse("admin:reports_export_job", args=[running.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert 'value="25"' in page and "50 / 200" in page


def test_a_submissions_pdf_is_audited(client, reviewer, city, submission):
    client.force_login(reviewer)
    response = client.get(reverse("admin:reports_submission_pdf", args=[submission.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    [entry] = audited(city, "reports.submission.pdf_exported")
    assert entry.target_id == str(submission.pk)


def test_someone_elses_export_is_a_404_for_a_colleague(client, city, job):
    colleague = staff_member(city, Role.ADMIN)
    client.force_login(colleague)
    assert client.get(reverse("admin:reports_export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("admin:reports_export_download", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("role", ["designer", "broadcaster"])
def test_designers_and_broadcasters_are_refused_every_export_url(
    client, request, role, job, submission, pets
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(exports_url()).status_code == 403
    for method, url, data in urls_of(job, submission, pets):
        assert getattr(client, method)(url, data).status_code == 403, url


@pytest.mark.parametrize("role", ["admin", "reviewer", "designer", "broadcaster"])
def test_an_outsider_of_any_role_reaches_nothing_of_the_city(
    client, role, other_town, job, submission, pets
):
    client.force_login(staff_member(other_town, role))
    expected = 404 if role in ("admin", "reviewer") else 403
    for method, url, data in urls_of(job, submission, pets):
        assert getattr(client, method)(url, data).status_code == expected, url
    if expected == 404:
        body = client.get(exports_url()).content.decode()
        assert "犬の登録申請" not in body and "pet-register" not in body


def test_a_reviewer_of_another_department_gets_404_and_one_of_its_department_exports(
    client, reviewer, city, doro, kodomo, pets, submission, job
):
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[doro]
    )
    client.force_login(reviewer)
    for method, url, data in urls_of(job, submission, pets):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert "犬の登録申請" not in client.get(exports_url()).content.decode()
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[kodomo]
    )
    pdf = reverse("admin:reports_submission_pdf", args=[submission.pk])
    assert client.get(pdf).status_code == 200
    response = client.post(exports_url(), {"procedure": pets.pk, "format": "csv_utf8"})
    assert response.status_code == 200


def test_djangos_change_form_of_a_job_is_closed_even_to_its_creator(client, admin_user, job):
    client.force_login(admin_user)
    change = reverse("admin:reports_exportjob_change", args=[job.pk])
    assert client.get(change).status_code == 403


def test_admins_schedule_exports_and_reviewers_of_other_departments_do_not_see_them(
    client, admin_user, reviewer, city, kodomo, doro, pets
):
    client.force_login(admin_user)
    add = reverse("admin:reports_scheduledexport_add")
    response = client.post(
        add,
        {
            "municipality": city.pk,
            "department": kodomo.pk,
            "procedure": pets.pk,
            "format": "xlsx",
            "frequency": "weekly",
            "time_of_day": "08:30",
            "weekday": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(city):
        schedule = ScheduledExport.objects.get()
    assert (schedule.created_by, schedule.municipality) == (admin_user, city)
    assert audited(city, "reports.scheduledexport.created")
    changelist = reverse("admin:reports_scheduledexport_changelist")
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[doro]
    )
    client.logout()  # the admin's "added" message goes with their session
    client.force_login(reviewer)
    assert "犬の登録申請" not in client.get(changelist).content.decode()
    assert client.post(add, {}).status_code == 403
