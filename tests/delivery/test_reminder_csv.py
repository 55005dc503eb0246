"""Irregular garbage dates uploaded from a CSV as cities export it (UTF-8 or Excel's
Shift_JIS): every row, or nothing with the lines to fix. Audited; other towns see nothing."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import override
from django_scopes import scopes_disabled

from delivery.broadcasts.models import ReminderRule
from delivery.broadcasts.reminders import (
    MAX_CSV_BYTES,
    ReminderCsvRejected,
    reminder_dates_import,
)
from govtech.models import AuditLogEntry
from tests.delivery.broadcast_world import north_garbage_rule

GOOD = (
    "日付,地区,区分,備考\n"
    "2025/12/30,北地区,追加,年末臨時収集\n"
    "2025-12-31,south,追加,\n"
    "2026年1月1日,north,休み,元日\n"
    "2026/1/2,,休み,全地区\n"
)


@pytest.fixture
def rule(city, channel):
    return north_garbage_rule(city, channel, skip_dates=["2025-12-30"])


def _reload(rule) -> ReminderRule:
    with scopes_disabled():
        return ReminderRule.objects.get(pk=rule.pk)


def _problems(rule, data: bytes, *, language: str = "en") -> list[str]:
    with pytest.raises(ReminderCsvRejected) as rejected, override(language):
        reminder_dates_import(actor=None, rule=rule, data=data)
    with override(language):
        return [str(problem) for problem in rejected.value.problems]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_a_citys_csv_adds_and_skips_the_dates_of_this_area(rule, encoding):
    dates = reminder_dates_import(actor=None, rule=rule, data=GOOD.encode(encoding))

    assert dates.other_areas == 1  # the south row
    rule = _reload(rule)
    assert rule.extra_dates == ["2025-12-30"]  # added: no longer skipped
    assert rule.skip_dates == ["2026-01-01", "2026-01-02"]


def test_an_import_is_audited(rule, admin_user):
    reminder_dates_import(actor=admin_user, rule=rule, data=GOOD.encode())
    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="delivery.reminderrule.dates_imported")
    assert entry.actor == admin_user
    assert entry.data == {"added": 1, "skipped": 2, "other_areas": 1}


def test_every_bad_line_is_listed_and_nothing_is_imported(rule):
    bad = (
        "日付,地区,区分\n"
        "2025/12/30,north,追加\n"
        "2025/13/01,north,追加\n"
        "2025/12/31,東地区,追加\n"
        "2026/01/03,north,たぶん\n"
        "2026/01/04,north,追加\n"
        "2026/01/04,north,休み\n"
    )
    problems = _problems(rule, bad.encode("cp932"))

    assert [problem.split(":")[0] for problem in problems] == [
        "Line 3",
        "Line 4",
        "Line 5",
        "Line 7",
    ]
    assert "2025/13/01" in problems[0] and "東地区" in problems[1] and "north" in problems[1]
    assert _reload(rule).extra_dates == []  # not even the good first row


def test_the_lines_are_named_in_japanese_for_staff(rule):
    problems = _problems(rule, "日付\n2025/02/30\n".encode(), language="ja")
    assert problems == [
        "2行目: 「2025/02/30」は日付として読めません"
        "（2025-12-30 や 2025/12/30 の形で書いてください）。"
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"2025-12-30,add\n", "Line 1"),  # no header line
        ("日付,曜日\n2025/12/30,火\n".encode(), "曜日"),
        (b"PK\x03\x04" + b"\x00" * 40, "Excel"),
        (b"\x82\xa0\xff\xfe\x81", "UTF-8"),
        (b"date\n" + b"2025-12-30\n" * (MAX_CSV_BYTES // 11 + 1), "KB"),
        ("日付,地区\n2025/12/30,south\n".encode(), "no dates"),
        (b"", "no dates"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(rule, data, expected):
    problems = _problems(rule, data)
    assert expected in " ".join(problems)
    assert _reload(rule).extra_dates == []


def _upload(client, rule, text: bytes):
    return client.post(
        reverse("admin:delivery_reminderrule_import_dates", args=[rule.pk]),
        {"file": SimpleUploadedFile("gomi.csv", text, content_type="text/csv")},
    )


def test_a_broadcaster_uploads_the_csv_in_the_console(client, rule, broadcaster):
    client.force_login(broadcaster)
    page = client.get(reverse("admin:delivery_reminderrule_change", args=[rule.pk]))
    assert (
        reverse("admin:delivery_reminderrule_import_dates", args=[rule.pk]) in page.content.decode()
    )

    response = _upload(client, rule, GOOD.encode("cp932"))

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)]
    assert _reload(rule).skip_dates == ["2026-01-01", "2026-01-02"]


def test_a_bad_upload_shows_the_lines_and_keeps_the_rule(client, rule, broadcaster):
    client.force_login(broadcaster)
    response = _upload(client, rule, "日付\n2025/02/30\n".encode())

    assert response.status_code == 200
    assert "2025/02/30" in response.content.decode()
    assert _reload(rule).extra_dates == []


def test_designers_and_outsiders_cannot_import(client, rule, designer, outsider):
    client.force_login(designer)
    assert _upload(client, rule, GOOD.encode()).status_code in (403, 404)
    client.force_login(outsider)
    assert _upload(client, rule, GOOD.encode()).status_code == 404
    assert _reload(rule).extra_dates == []
