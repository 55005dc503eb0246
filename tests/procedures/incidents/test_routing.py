"""A report-kind submission gets its report: place, category, photos, and the department
its category or the area it lies in routes it to."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from govtech.access import StaffContext
from govtech.models import Department
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.incidents.models import Report, ReportArea, ReportCategory, ReportSettings
from procedures.incidents.services import geometry_from_geojson
from procedures.runtime import resident_input
from procedures.selectors import submissions_for_reviewer
from procedures.services import procedure_create, procedure_publish
from tests.factories import resident as resident_record

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
# A square around the city hall (longitude, latitude) and a point inside / outside it.
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[139.0, 35.0], [139.1, 35.0], [139.1, 35.1], [139.0, 35.1], [139.0, 35.0]]],
}
INSIDE, OUTSIDE = (35.05, 139.05), (35.2, 139.05)


def report_document() -> dict:
    return {
        "format": "govtech.procedure.v1",
        "key": "road-report",
        "kind": "report",
        "title": {"ja": "道路の通報"},
        "languages": ["ja"],
        "triggers": {"keywords": ["道路通報"]},
        "steps": [
            {
                "id": "place",
                "type": "location",
                "label": {"ja": "場所"},
                "prompt": {"ja": "場所を送ってください"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
    }


@pytest.fixture
def roads(city):
    return Department.objects.with_scope(municipality=city).create(
        municipality=city, name="道路課", code="roads"
    )


@pytest.fixture
def prefecture_roads(city):
    return Department.objects.with_scope(municipality=city).create(
        municipality=city, name="県道担当", code="pref-roads"
    )


@pytest.fixture
def report_procedure(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=report_document())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def send_report(city, at, name="U1"):
    person = resident_record(city, f"line:test:{name}")
    last = None
    for inp in (
        engine.TextInput("道路通報"),
        engine.LocationInput(latitude=at[0], longitude=at[1], address="デモ市本町1-1"),
        engine.TextInput("送信"),
    ):
        last = resident_input(municipality=city, resident=person, inp=inp, lang="ja", now=NOW)
    assert last is not None and last.submission is not None, last
    return last.submission


def category_for(city, procedure, department=None):
    return ReportCategory.objects.with_scope(municipality=city).create(
        municipality=city, key="road", name="道路", procedure=procedure, department=department
    )


def test_a_report_keeps_its_place_and_category(city, report_procedure, roads):
    category = category_for(city, report_procedure, roads)
    submission = send_report(city, INSIDE)
    with tenant_scope(city):
        report = Report.objects.get(submission=submission)
        assert (report.latitude, report.longitude) == INSIDE
        assert report.address == "デモ市本町1-1"
        assert report.category == category
        assert report.area is None
        submission.refresh_from_db()
        assert submission.department == roads


def test_an_area_routes_the_report_inside_it_only(city, report_procedure, roads, prefecture_roads):
    category = category_for(city, report_procedure, roads)
    with tenant_scope(city):
        area = ReportArea.objects.create(
            municipality=city,
            name="県道",
            category=category,
            department=prefecture_roads,
            geometry=SQUARE,
        )
    inside = send_report(city, INSIDE, "A")
    outside = send_report(city, OUTSIDE, "B")
    with tenant_scope(city):
        inside.refresh_from_db()
        outside.refresh_from_db()
        assert inside.department == prefecture_roads
        assert inside.report.area == area
        assert outside.department == roads


def test_the_category_specific_area_wins_over_a_general_one(
    city, report_procedure, roads, prefecture_roads
):
    category = category_for(city, report_procedure)
    with tenant_scope(city):
        ReportArea.objects.create(municipality=city, name="全般", department=roads, geometry=SQUARE)
        ReportArea.objects.create(
            municipality=city,
            name="県道",
            category=category,
            department=prefecture_roads,
            geometry=SQUARE,
        )
    submission = send_report(city, INSIDE)
    with tenant_scope(city):
        submission.refresh_from_db()
        assert submission.department == prefecture_roads


def test_outside_every_area_the_default_department_takes_it(
    city, report_procedure, roads, prefecture_roads
):
    category_for(city, report_procedure)  # no department of its own
    with tenant_scope(city):
        ReportSettings.objects.create(municipality=city, default_department=roads)
        ReportArea.objects.create(
            municipality=city, name="県道", department=prefecture_roads, geometry=SQUARE
        )
    submission = send_report(city, OUTSIDE)
    with tenant_scope(city):
        submission.refresh_from_db()
        assert submission.department == roads


def test_only_reviewers_of_the_routed_department_see_it(
    city, report_procedure, roads, prefecture_roads
):
    category = category_for(city, report_procedure, roads)
    with tenant_scope(city):
        ReportArea.objects.create(
            municipality=city,
            name="県道",
            category=category,
            department=prefecture_roads,
            geometry=SQUARE,
        )
    submission = send_report(city, INSIDE)
    road_staff = StaffContext(
        roles=frozenset({"reviewer"}), reviewer_department_ids=frozenset({roads.pk})
    )
    prefecture_staff = StaffContext(
        roles=frozenset({"reviewer"}), reviewer_department_ids=frozenset({prefecture_roads.pk})
    )
    with tenant_scope(city):
        assert not submissions_for_reviewer(staff=road_staff).filter(pk=submission.pk).exists()
        assert submissions_for_reviewer(staff=prefecture_staff).filter(pk=submission.pk).exists()


def test_an_application_has_no_report(city, designer):
    from tests.procedures.casework.conftest import submit_pet
    from tests.procedures.docs import pet_registration

    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    submission = submit_pet(city)
    with tenant_scope(city):
        assert not Report.objects.filter(submission=submission).exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "JSON ではありません"),
        ('{"type": "Point", "coordinates": [139, 35]}', "Polygon か MultiPolygon"),
        ('{"type": "Polygon", "coordinates": [[[35.0, 139.0], [35.1, 139.0], [35.1, 139.1]]]}', ""),
        (
            '{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}',
            "自己交差",
        ),
        ('{"type": "FeatureCollection", "features": []}', "0 件の地物"),
    ],
)
def test_a_bad_area_is_refused_with_a_reason(text, message):
    with pytest.raises(ValidationError) as refused:
        geometry_from_geojson(text)
    assert message in str(refused.value)


def test_a_feature_collection_of_one_polygon_is_accepted():
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    text = json.dumps({"type": "FeatureCollection", "features": [feature]})
    assert geometry_from_geojson(text) == SQUARE
