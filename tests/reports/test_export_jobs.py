"""Export jobs: CP932 with replacements counted, XLSX, the PDF 帳票 and its ZIP, a job run
twice, expiry, and the audit of who exported what."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.casework.selectors import InboxFilters
from reports.exports.jobs import (
    export_job_create,
    export_job_run,
    export_jobs_purge_expired,
    export_jobs_recover,
)
from reports.exports.pdf import submission_pdf
from reports.models import ExportJob, ExportStatus
from tests.reports.conftest import SUBMITTED, submit

NOW = SUBMITTED + timedelta(days=2)


@pytest.fixture(autouse=True)
def _frozen_time(eager_celery):
    with time_machine.travel(NOW, tick=False):
        yield


def _create(city, user, procedure, fmt, capture, *, omit=False, **filters) -> ExportJob:
    with tenant_scope(city), capture(execute=True):
        job = export_job_create(
            actor=user,
            procedure=procedure,
            filters=InboxFilters(procedure=procedure.pk, **filters),
            format=fmt,
            omit_personal=omit,
        )
    with tenant_scope(city):
        job.refresh_from_db()
    return job


def _content(city, job) -> bytes:
    with tenant_scope(city), job.file.open("rb") as handle:
        return handle.read()


def audited(city, action: str) -> list[AuditLogEntry]:
    with tenant_scope(city):
        return list(AuditLogEntry.objects.filter(action=action))


def test_a_cp932_export_decodes_back_to_the_same_japanese_and_counts_a_replacement(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "𠮷野太郎", "phone": "090-1234-5678", "colors": ["white"]})
    submit(pets, 1, {"owner": "髙橋花子〜", "colors": ["red"], "count": 3})
    job = _create(city, admin_user, pets, "csv_cp932", django_capture_on_commit_callbacks)

    assert (job.status, job.row_count, job.replaced_characters) == ("done", 2, 1)
    rows = list(csv.reader(io.StringIO(_content(city, job).decode("cp932"))))
    header = rows[0]
    owners = [row[header.index("飼い主氏名")] for row in rows[1:]]
    assert owners == ["〓野太郎", "髙橋花子～"]  # oldest first; 𠮷 has no CP932 form
    assert rows[1][header.index("毛色: 白")] == "○" and rows[2][header.index("毛色: 赤")] == "○"
    assert rows[2][header.index("頭数")] == "3" and rows[2][header.index("バージョン")] == "1"
    assert [entry.actor for entry in audited(city, "reports.export.requested")] == [admin_user]


def test_a_utf8_export_starts_with_a_bom_and_keeps_every_character(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "𠮷野太郎", "colors": ["black"]})
    job = _create(city, admin_user, pets, "csv_utf8", django_capture_on_commit_callbacks)
    content = _content(city, job)
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "𠮷野太郎" in text and "✓" in text and job.replaced_characters == 0


def test_resident_text_is_never_a_formula_in_csv_or_xlsx(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": '=HYPERLINK("http://evil")', "colors": ["white"]})
    csv_job = _create(city, admin_user, pets, "csv_utf8", django_capture_on_commit_callbacks)
    assert "'=HYPERLINK" in _content(city, csv_job).decode("utf-8-sig")
    xlsx_job = _create(city, admin_user, pets, "xlsx", django_capture_on_commit_callbacks)
    sheet = openpyxl.load_workbook(io.BytesIO(_content(city, xlsx_job))).active
    header = [cell.value for cell in sheet[1]]
    owner = sheet.cell(row=2, column=header.index("飼い主氏名") + 1)
    assert owner.data_type == "s" and owner.value == '=HYPERLINK("http://evil")'


def test_an_xlsx_job_writes_the_union_of_columns_checks_and_photo_links(
    city, admin_user, pets, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://city.example"
    photo = {"ref": "5f1c", "content_type": "image/jpeg"}
    answer = {"owner": "山田太郎", "colors": ["white", "black"], "photo": photo}
    submission = submit(pets, 3, answer)
    job = _create(city, admin_user, pets, "xlsx", django_capture_on_commit_callbacks)
    sheet = openpyxl.load_workbook(io.BytesIO(_content(city, job))).active
    header = [cell.value for cell in sheet[1]]
    row = {h: cell.value for h, cell in zip(header, sheet[2], strict=True)}
    assert (row["毛色: 白"], row["毛色: 黒"], row["毛色: 赤"]) == ("✓", "✓", None)
    url = f"https://city.example/admin/procedures/submission/{submission.pk}/photos/5f1c/"
    assert row["写真"] == f'=HYPERLINK("{url}","{url}")'
    assert row["申請日時"] == "2026-11-20 09:30" and job.row_count == 1


def test_personal_data_is_left_out_of_the_file_when_asked(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "山田太郎", "phone": "090-1234-5678", "breed": "shiba"})
    job = _create(city, admin_user, pets, "csv_utf8", django_capture_on_commit_callbacks, omit=True)
    text = _content(city, job).decode("utf-8-sig")
    assert "柴犬" in text
    assert "山田太郎" not in text and "090-1234-5678" not in text and "電話番号" not in text


def test_the_job_exports_only_what_the_filters_select(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "一番"}, status="accepted")
    submit(pets, 3, {"owner": "二番"}, when=SUBMITTED + timedelta(days=1))
    submit(pets, 3, {"owner": "テスト"}, is_test=True)
    job = _create(
        city,
        admin_user,
        pets,
        "csv_utf8",
        django_capture_on_commit_callbacks,
        submitted_from=(SUBMITTED + timedelta(days=1)).date(),
    )
    text = _content(city, job).decode("utf-8-sig")
    assert "二番" in text and "一番" not in text and "テスト" not in text


def test_the_job_runs_twice_without_duplicating(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "山田太郎"})
    job = _create(city, admin_user, pets, "csv_utf8", django_capture_on_commit_callbacks)
    first_file = job.file.name
    with tenant_scope(city):
        assert export_job_run(job_id=job.pk) is False
        job.refresh_from_db()
    assert job.file.name == first_file and job.status == "done"
    folder = default_storage.path(f"exports/{city.pk}")
    assert len(list(Path(folder).rglob("*.csv"))) == 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs Debian poppler-utils")
def test_a_pdf_form_holds_the_answers_in_japanese(city, pets, tmp_path):
    answers = {"owner": "山田太郎", "breed": "akita", "colors": ["white", "black"]}
    answers["place"] = {"latitude": None, "longitude": None, "address": "中央一丁目", "title": ""}
    submission = submit(pets, 3, answers)
    with tenant_scope(city):
        submission = (
            type(submission).objects.select_related("version", "procedure").get(pk=submission.pk)
        )
        (tmp_path / "form.pdf").write_bytes(submission_pdf(submission))
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "form.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    for expected in ("犬の登録申請", submission.reference, "2026-11-20 09:30", "3,000"):
        assert expected in text
    for expected in ("飼い主氏名", "山田太郎", "秋田犬", "白、黒", "中央一丁目"):
        assert expected in text


def test_a_batch_of_pdf_forms_is_one_zip(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    first = submit(pets, 3, {"owner": "山田太郎"})
    second = submit(pets, 2, {"owner": "佐藤花子"})
    job = _create(city, admin_user, pets, "pdf_zip", django_capture_on_commit_callbacks)
    with zipfile.ZipFile(io.BytesIO(_content(city, job))) as archive:
        names = archive.namelist()
        assert names == [f"{first.reference}.pdf", f"{second.reference}.pdf"]
        assert archive.read(names[0]).startswith(b"%PDF")


def test_an_expired_download_is_gone(
    client, city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "山田太郎"})
    job = _create(city, admin_user, pets, "csv_utf8", django_capture_on_commit_callbacks)
    path = default_storage.path(job.file.name)
    client.force_login(admin_user)
    download = reverse("admin:reports_export_download", args=[job.pk])
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content)
    assert len(audited(city, "reports.export.downloaded")) == 1

    assert job.expires_at == NOW + timedelta(days=7)
    with tenant_scope(city):  # a week later (the session would have expired meanwhile)
        ExportJob.objects.filter(pk=job.pk).update(expires_at=NOW - timedelta(minutes=1))
    assert client.get(download).status_code == 404  # expired, before the purge too
    with tenant_scope(city):
        assert export_jobs_purge_expired(now=timezone.now()) == 1
        assert export_jobs_purge_expired(now=timezone.now()) == 0
        job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not job.file
    assert not os.path.exists(path)
    assert client.get(download).status_code == 404
    response.close()  # last: on PostgreSQL it ends the test's database connection


def test_a_job_whose_worker_died_runs_again_once_then_fails_with_a_reason(
    city, admin_user, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "山田太郎"})
    with tenant_scope(city):  # created, claimed by a worker that was then killed
        job = ExportJob.objects.create(
            municipality=city, created_by=admin_user, procedure=pets, format="csv_utf8"
        )
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, heartbeat_at=NOW - timedelta(minutes=5), attempts=1
        )
        assert export_jobs_recover(now=NOW) == (0, 0)  # five minutes: maybe still working

        later = NOW + timedelta(minutes=6)
        with django_capture_on_commit_callbacks(execute=True):
            assert export_jobs_recover(now=later) == (1, 0)  # run again, to the end
        job.refresh_from_db()
        assert (job.status, job.row_count, job.attempts) == (ExportStatus.DONE, 1, 2)
        assert export_jobs_recover(now=later) == (0, 0)

        ExportJob.objects.filter(pk=job.pk).update(  # the second worker died too
            status=ExportStatus.RUNNING, heartbeat_at=NOW - timedelta(minutes=11), file=""
        )
        assert export_jobs_recover(now=NOW) == (0, 1)
        job.refresh_from_db()
        assert export_job_run(job_id=job.pk) is False  # a late redelivery writes nothing
    assert job.status == ExportStatus.FAILED and job.error
