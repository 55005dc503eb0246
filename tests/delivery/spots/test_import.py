"""Standard-format spot CSVs: both header generations, UTF-8 and CP932, every bad line
listed, the preview's diff by ID, all-or-nothing apply, and the export read back."""

from datetime import time
from pathlib import Path

import pytest

from delivery.spots.models import Spot
from delivery.spots.services import (
    spot_import_apply,
    spot_import_diff,
    spot_import_stage,
    spots_csv,
)
from delivery.spots.standard import parse_days, parse_time, read_spots
from govtech.models import AuditLogEntry
from govtech.services import ServiceError
from govtech.tenancy import tenant_scope

DATA = Path(__file__).parent / "data"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_the_current_generation_in_utf8_with_its_split_address():
    result = read_spots(data("facilities_current_utf8.csv"))
    assert result.problems == []
    assert (result.encoding, result.generation) == ("UTF-8", "current")
    library, gym, hall = result.rows
    assert (
        library["name"] == "デモ市立中央図書館"
        and library["name_en"] == "Demo City Central Library"
    )
    assert library["address"] == "デモ県デモ市本町1-2-3"
    assert gym["address"] == "デモ県デモ市緑町4-5"  # 所在地_連結表記 empty: the parts joined
    assert (library["latitude"], library["longitude"]) == (35.681236, 139.767125)
    assert library["weekdays"] == [1, 2, 3, 4, 5, 6] and library["open_on_holidays"] is False
    assert (library["opens_at"], library["closes_at"]) == (time(9), time(19))
    assert (gym["weekdays"], gym["opens_at"], gym["closes_at"]) == (
        [0, 1, 2, 3, 4],
        time(8, 30),
        time(21),
    )
    assert hall["open_on_holidays"] is False and hall["weekdays"] == [0, 1, 2, 3, 4]
    assert library["barrier_free"] == "車いす用トイレ・スロープあり"
    assert library["extra"]["全国地方公共団体コード"] == "999999"


def test_the_older_generation_in_cp932_with_its_hazard_flags():
    result = read_spots(data("evacuation_older_cp932.csv"))
    assert result.problems == []
    assert (result.encoding, result.generation) == ("Shift_JIS (CP932)", "older")
    school, park = result.rows
    assert school["address"] == "デモ県デモ市本町3-1"
    assert school["hazards"] == sorted(["flood", "storm_surge", "earthquake", "tsunami", "fire"])
    assert park["hazards"] == ["earthquake", "fire"]
    assert (school["capacity"], park["capacity"]) == (800, 1200)
    assert park["extra"]["対象となる町会・自治会"] == "緑町" and park["note"] == "屋外"


def test_every_bad_line_is_listed_and_nothing_is_staged(city, admin_user):
    result = read_spots(data("bad_lines.csv"))
    found = {(p.line, p.column) for p in result.problems}
    assert found == {
        (3, "名称"),
        (4, "緯度"),
        (5, "緯度"),
        (6, "開始時間"),
        (7, "ID"),
        (8, "URL"),
    }
    assert "2" in next(p.message for p in result.problems if p.line == 7)  # the first line
    with tenant_scope(city):
        staged, _ = spot_import_stage(
            actor=admin_user,
            municipality=city,
            kind="facility",
            filename="bad_lines.csv",
            content=data("bad_lines.csv"),
        )
        assert staged is None and not Spot.objects.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "空"),
        ("名称,住所\nA,B\n".encode(), "ID"),
        (b"ID,\x82\xff\n", "UTF-8"),
    ],
)
def test_a_file_that_is_not_a_spot_list_says_why(content, message):
    problems = read_spots(content).problems
    assert len(problems) == 1
    assert message.lower() in problems[0].message.lower() or message in problems[0].message


def stage(city, user, name, kind="facility"):
    staged, result = spot_import_stage(
        actor=user, municipality=city, kind=kind, filename=name, content=data(name)
    )
    assert staged is not None, result.problems
    return staged


def test_the_preview_shows_the_diff_by_id_and_applying_is_all_at_once(city, admin_user):
    with tenant_scope(city):
        first = stage(city, admin_user, "facilities_current_utf8.csv")
        diff = spot_import_diff(first)
        assert [row["source_id"] for row in diff.added] == ["F001", "F002", "F003"]
        assert spot_import_apply(actor=admin_user, staged=first, remove_missing=False)["added"] == 3
        with pytest.raises(ServiceError):
            spot_import_apply(actor=admin_user, staged=first, remove_missing=False)

        Spot.objects.filter(source_id="F001").update(phone="000")
        Spot.objects.create(
            municipality=city,
            kind="facility",
            source_id="F999",
            name="閉館",
            latitude=35,
            longitude=139,
        )
        again = stage(city, admin_user, "facilities_current_utf8.csv")
        diff = spot_import_diff(again)
        assert diff.added == [] and diff.unchanged == 2
        assert [(spot.source_id, fields) for spot, _row, fields in diff.changed] == [
            ("F001", ["phone"])
        ]
        assert [spot.source_id for spot in diff.removed] == ["F999"]
        summary = spot_import_apply(actor=admin_user, staged=again, remove_missing=True)
        assert summary == {"added": 0, "changed": 1, "unchanged": 2, "removed": 1, "kept": 0}
        assert Spot.objects.get(source_id="F001").phone == "03-1234-5678"
        assert not Spot.objects.filter(source_id="F999").exists()
        audit = AuditLogEntry.objects.filter(action="spots.imported").order_by("pk").last()
        assert audit.data["changed"] == 1


def test_a_failure_halfway_changes_nothing(city, admin_user, monkeypatch):
    with tenant_scope(city):
        staged = stage(city, admin_user, "facilities_current_utf8.csv")
        Spot.objects.create(
            municipality=city,
            kind="facility",
            source_id="F001",
            name="古い名前",
            latitude=35,
            longitude=139,
        )

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr("delivery.spots.services.audit_log", broken)
        with pytest.raises(RuntimeError):
            spot_import_apply(actor=admin_user, staged=staged, remove_missing=True)
        assert list(Spot.objects.values_list("source_id", "name")) == [("F001", "古い名前")]
        staged.refresh_from_db()
        assert staged.applied_at is None


def test_the_export_reads_back_as_the_same_spots(city, admin_user):
    with tenant_scope(city):
        spot_import_apply(
            actor=admin_user,
            staged=stage(city, admin_user, "evacuation_older_cp932.csv", kind="evacuation_site"),
            remove_missing=False,
        )
        exported = "".join(spots_csv(municipality=city, kind="evacuation_site")).encode("utf-8")
    assert exported.startswith("\ufeff".encode())
    again = read_spots(exported)
    assert again.problems == [] and again.generation == "current"
    original = read_spots(data("evacuation_older_cp932.csv")).rows
    fields = ("source_id", "name", "address", "latitude", "longitude", "hazards", "capacity")
    assert [{f: row[f] for f in fields} for row in again.rows] == [
        {f: row[f] for f in fields} for row in original
    ]
    assert again.rows[1]["extra"]["対象となる町会・自治会"] == "緑町"


@pytest.mark.parametrize(
    "text, weekdays, holidays",
    [
        ("", [0, 1, 2, 3, 4, 5, 6], True),
        ("月火水木金", [0, 1, 2, 3, 4], False),
        ("月～金", [0, 1, 2, 3, 4], False),
        ("月曜日から金曜日", [0, 1, 2, 3, 4], False),
        ("土日祝", [5, 6], True),
        ("平日（祝日を除く）", [0, 1, 2, 3, 4], False),
        ("毎日", [0, 1, 2, 3, 4, 5, 6], True),
        ("年中無休", [0, 1, 2, 3, 4, 5, 6], True),
        ("金～月", [0, 4, 5, 6], False),
        ("月,水,金", [0, 2, 4], False),
    ],
)
def test_open_days_as_the_files_write_them(text, weekdays, holidays):
    assert parse_days(text) == (weekdays, holidays)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("9:00", time(9)),
        ("09:00:00", time(9)),
        ("９：３０", time(9, 30)),
        ("8時30分", time(8, 30)),
        ("21時", time(21)),
        ("0930", time(9, 30)),
        ("24:00", time(23, 59)),
        ("", None),
    ],
)
def test_times_as_the_files_write_them(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "9:75", "朝"])
def test_a_time_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)
