"""Possible duplicates of a report (same category, within the radius and the days, not
merged, not itself) and merging: the duplicate follows the main report's status and its
reporter is told of every change.

Distances by hand: a degree of latitude is 6,371,000 m × π / 180 = 111,194.9 m, so
0.0001° north is 11.12 m, 0.0004° is 44.48 m and 0.0005° is 55.60 m; at 35° north a
degree of longitude is that × cos 35° (0.81915) = 91,085 m, so 0.0005° east is 45.54 m
and 0.0006° is 54.65 m. The default radius is 50 m, the default window 30 days.
"""

from datetime import timedelta

import pytest

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.casework.models import CaseEvent, CaseEventKind
from procedures.casework.services import case_request_correction, case_transition
from procedures.incidents.duplicates import (
    MergeRefused,
    bounding_box,
    haversine_m,
    report_duplicates,
    report_merge,
    report_unmerge,
)
from procedures.incidents.models import Report, ReportSettings
from procedures.models import Notice, Submission
from tests.procedures.incidents.report_world import HALL, NOW, make_report, report_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def roads(city, designer):
    return report_category(city, designer, "road", "道路")


@pytest.fixture
def parks(city, designer):
    return report_category(city, designer, "park", "公園")


def report_of(submission) -> Report:
    with tenant_scope(submission.municipality):
        return Report.objects.select_related("submission").get(submission=submission)


def found(submission) -> dict[str, float]:
    """The references of the possible duplicates of ``submission``, with distances."""
    with tenant_scope(submission.municipality):
        return {
            d.submission.reference: round(d.distance_m, 2)
            for d in report_duplicates(report=report_of(submission))
        }


def test_haversine_matches_the_hand_computed_distances():
    assert haversine_m(35.0, 139.0, 35.0001, 139.0) == pytest.approx(11.1195, abs=1e-3)
    assert haversine_m(35.0, 139.0, 35.0, 139.0005) == pytest.approx(45.5428, abs=1e-3)
    assert haversine_m(35.0, 139.0, 35.0, 139.0) == 0


def test_the_bounding_box_is_wider_in_longitude_than_in_latitude_away_from_the_equator():
    min_lat, max_lat, min_lon, max_lon = bounding_box(35.0, 139.0, 50)
    assert max_lat - 35.0 == pytest.approx(50 / 111_194.9, rel=1e-4)
    assert max_lon - 139.0 == pytest.approx(50 / 91_085.0, rel=1e-3)
    assert (min_lat, min_lon) == pytest.approx(
        (35.0 - 50 / 111_194.9, 139.0 - 50 / 91_085.0), rel=1e-6
    )


def test_reports_within_the_radius_are_found_with_their_distance_nearest_first(roads):
    first = make_report(roads, HALL, resident="A")
    near_east = make_report(roads, (35.0, 139.0005), resident="B")  # 45.54 m
    north_44 = make_report(roads, (35.0004, 139.0), resident="C")  # 44.48 m
    make_report(roads, (35.0005, 139.0), resident="D")  # 55.60 m: too far
    make_report(roads, (35.0, 139.0006), resident="E")  # 54.65 m: too far
    assert found(first) == {north_44.reference: 44.48, near_east.reference: 45.54}
    assert list(found(first)) == [north_44.reference, near_east.reference]


def test_the_radius_is_the_municipalitys(city, roads):
    first = make_report(roads, HALL, resident="A")
    eleven = make_report(roads, (35.0001, 139.0), resident="B")  # 11.12 m
    with tenant_scope(city):
        ReportSettings.objects.create(municipality=city, duplicate_radius_m=10)
    assert found(first) == {}
    with tenant_scope(city):
        ReportSettings.objects.filter(municipality=city).update(duplicate_radius_m=12)
    assert found(first) == {eleven.reference: 11.12}


def test_only_reports_sent_within_the_days_count_before_or_after(city, roads):
    first = make_report(roads, HALL, resident="A")
    earlier = make_report(roads, HALL, resident="B", now=NOW - timedelta(days=29))
    make_report(roads, HALL, resident="C", now=NOW - timedelta(days=31))
    later = make_report(roads, HALL, resident="D", now=NOW + timedelta(days=30))
    assert set(found(first)) == {earlier.reference, later.reference}
    with tenant_scope(city):
        ReportSettings.objects.create(municipality=city, duplicate_days=10)
    assert found(first) == {}


def test_another_category_at_the_same_place_is_not_a_duplicate(roads, parks):
    first = make_report(roads, HALL, resident="A")
    make_report(parks, HALL, resident="B")
    assert found(first) == {}


def test_merged_reports_and_the_report_itself_are_not_offered(city, roads, reviewer):
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0001, 139.0), resident="B")
    third = make_report(roads, (35.0002, 139.0), resident="C")  # 22.24 m
    assert set(found(first)) == {second.reference, third.reference}
    with tenant_scope(city):
        report_merge(actor=reviewer, duplicate=report_of(second), main=report_of(first))
    assert set(found(first)) == {third.reference}
    assert set(found(third)) == {first.reference}


def test_a_report_without_a_place_has_no_duplicates(city, roads):
    first = make_report(roads, HALL, resident="A")
    make_report(roads, HALL, resident="B")
    with tenant_scope(city):
        Report.objects.filter(submission=first).update(latitude=None, longitude=None)
    assert found(first) == {}


# --- merging -----------------------------------------------------------------------------


@pytest.fixture
def pair(city, roads, reviewer):
    """Two reports 11 m apart; the first is in review."""
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0001, 139.0), resident="B")
    with tenant_scope(city):
        case_transition(actor=reviewer, submission=first, to="in_review", notify=False)
    return first, second


def test_a_merged_report_takes_the_main_reports_status_and_both_timelines_say_who(
    city, pair, reviewer
):
    first, second = pair
    with tenant_scope(city):
        merged = report_merge(actor=reviewer, duplicate=report_of(second), main=report_of(first))
        assert merged.merged_into.submission_id == first.pk and merged.merged_at is not None
        assert Submission.objects.get(pk=second.pk).status == "in_review"
        on_second = CaseEvent.objects.get(submission=second, kind=CaseEventKind.MERGED)
        on_first = CaseEvent.objects.get(submission=first, kind=CaseEventKind.MERGED)
        assert on_second.actor == reviewer and on_first.actor == reviewer
        assert on_second.data == {"into": first.reference, "from": "submitted", "to": "in_review"}
        assert on_first.data == {"duplicate": second.reference}
        assert AuditLogEntry.objects.filter(action="procedures.report.merged").count() == 1
        told = Notice.objects.get(pk=on_second.notice_id)
        assert told.resident_id == second.resident_id
        assert second.reference in told.prompts[0]["text"]


def test_a_returned_report_merged_no_longer_waits_for_its_correction(city, pair, reviewer):
    first, second = pair
    with tenant_scope(city):
        case_request_correction(
            actor=reviewer, submission=second, fields=["place"], reason="場所がずれています"
        )
        report_merge(actor=reviewer, duplicate=report_of(second), main=report_of(first))
        merged = Submission.objects.get(pk=second.pk)
        assert (merged.status, merged.correction_due_at) == ("in_review", None)
        assert not merged.corrections.filter(status="open").exists()


def test_every_status_change_of_the_main_report_reaches_each_merged_reporter(
    city, roads, pair, reviewer
):
    _in_review, second = pair
    first = make_report(roads, HALL, resident="M")  # 受付, so that it moves twice
    third = make_report(roads, (35.0002, 139.0), resident="C")
    with tenant_scope(city):
        for duplicate in (second, third):
            report_merge(actor=reviewer, duplicate=report_of(duplicate), main=report_of(first))
        before = set(Notice.objects.values_list("pk", flat=True))
        case_transition(actor=reviewer, submission=first, to="in_review")
        case_transition(actor=reviewer, submission=first, to="completed")
        notices = Notice.objects.exclude(pk__in=before).order_by("pk")
        by_resident = {}
        for notice in notices:
            by_resident.setdefault(notice.resident_id, []).append(notice.prompts[0]["text"])
        for submission in (first, second, third):
            texts = by_resident[submission.resident_id]
            assert len(texts) == 2, texts  # 対応中 and 完了, each with their own reference
            assert all(submission.reference in text for text in texts)
            assert Submission.objects.get(pk=submission.pk).status == "completed"
        followed = CaseEvent.objects.filter(submission=third, kind=CaseEventKind.STATUS)
        assert [e.data["to"] for e in followed.order_by("pk")] == ["in_review", "completed"]
        assert {e.data["main"] for e in followed} == {first.reference}
        assert all(e.notice_id and e.actor == reviewer for e in followed)


def test_a_silent_status_change_moves_the_merged_reports_without_telling_anyone(
    city, pair, reviewer
):
    first, second = pair
    with tenant_scope(city):
        report_merge(actor=reviewer, duplicate=report_of(second), main=report_of(first))
        before = Notice.objects.count()
        case_transition(actor=reviewer, submission=first, to="completed", notify=False)
        assert Notice.objects.count() == before
        assert Submission.objects.get(pk=second.pk).status == "completed"


@pytest.mark.parametrize(
    "case",
    ["itself", "already merged", "main merged", "has duplicates", "closed"],
)
def test_a_merge_that_makes_no_sense_is_refused_and_changes_nothing(
    city, roads, pair, reviewer, case
):
    first, second = pair
    third = make_report(roads, (35.0002, 139.0), resident="C")
    with tenant_scope(city):
        a, b, c = report_of(first), report_of(second), report_of(third)
        if case in ("already merged", "main merged", "has duplicates"):
            report_merge(actor=reviewer, duplicate=b, main=a)
        if case == "closed":
            case_transition(actor=reviewer, submission=third, to="rejected", reason="重複")
        duplicate, main = {
            "itself": (a, a),
            "already merged": (b, c),
            "main merged": (c, b),
            "has duplicates": (a, c),
            "closed": (c, a),
        }[case]
        events = CaseEvent.objects.count()
        with pytest.raises(MergeRefused):
            report_merge(actor=reviewer, duplicate=duplicate, main=main)
        assert CaseEvent.objects.count() == events
        assert Report.objects.get(pk=c.pk).merged_into_id is None


def test_an_unmerged_report_stops_following(city, pair, reviewer):
    first, second = pair
    with tenant_scope(city):
        report_merge(actor=reviewer, duplicate=report_of(second), main=report_of(first))
        report_unmerge(actor=reviewer, duplicate=report_of(second))
        assert report_of(second).merged_into_id is None
        kinds = CaseEvent.objects.filter(kind=CaseEventKind.UNMERGED)
        assert {e.submission_id for e in kinds} == {first.pk, second.pk}
        assert AuditLogEntry.objects.filter(action="procedures.report.unmerged").exists()
        case_transition(actor=reviewer, submission=first, to="completed")
        assert Submission.objects.get(pk=second.pk).status == "in_review"
        with pytest.raises(MergeRefused):
            report_unmerge(actor=reviewer, duplicate=report_of(second))
