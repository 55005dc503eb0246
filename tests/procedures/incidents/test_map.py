"""The staff map of reports: who sees what (roles, departments, municipalities), its
filters, its marker data (compact, a constant number of queries), its links; the case
page's possible duplicates and the merge buttons."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from govtech.models import Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.casework.services import case_transition
from procedures.incidents.duplicates import report_merge
from procedures.incidents.models import Report
from procedures.models import Submission
from procedures.services import procedure_create, procedure_publish
from tests.factories import DepartmentFactory, staff_member
from tests.procedures.casework.conftest import submit_pet
from tests.procedures.docs import pet_registration
from tests.procedures.incidents.report_world import HALL, NOW, make_report, report_category

pytestmark = pytest.mark.django_db

MAP = reverse("admin:procedures_submission_report_map")
MARKERS = reverse("admin:procedures_submission_report_map_markers")


@pytest.fixture
def roads_department(city):
    return DepartmentFactory(municipality=city, code="roads", name="道路課")


@pytest.fixture
def roads(city, designer, roads_department):
    return report_category(city, designer, "road", "道路", department=roads_department)


@pytest.fixture
def parks(city, designer):
    parks = DepartmentFactory(municipality=city, code="parks", name="公園課")
    return report_category(city, designer, "park", "公園", department=parks)


def markers(client, **query) -> dict:
    response = client.get(MARKERS, query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def references(data: dict) -> set[str]:
    column = data["fields"].index("ref")
    return {row[column] for row in data["reports"]}


def listed(client, **query) -> str:
    response = client.get(MAP, query)
    assert response.status_code == 200
    return response.content.decode()


def _with_mfa(user):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


# --- who sees what ---------------------------------------------------------------------------


def test_a_reviewer_sees_the_open_reports_on_the_map_and_in_the_list(client, roads, reviewer):
    first = make_report(roads, HALL, resident="A", address="本町1-1")
    client.force_login(reviewer)
    data = markers(client)
    assert references(data) == {first.reference}
    assert data["fields"] == ["id", "ref", "lat", "lon", "status", "category", "date", "dup"]
    assert data["reports"][0] == [first.pk, first.reference, 35.0, 139.0, 0, 0, "2026-12-05", 0]
    assert data["statuses"][0][0] == "submitted"
    assert data["categories"] == ["道路"]
    page = listed(client)
    assert first.reference in page and "本町1-1" in page
    assert reverse("admin:procedures_submission_change", args=[first.pk]) in page


def test_a_reviewer_of_another_department_sees_none_of_its_reports(city, client, roads, parks):
    road = make_report(roads, HALL, resident="A")
    park = make_report(parks, HALL, resident="B")
    reviewer = staff_member(city, Role.REVIEWER)
    staff_set_roles(
        actor=None,
        municipality=city,
        user=reviewer,
        roles=[Role.REVIEWER],
        departments=[parks.department],
    )
    client.force_login(reviewer)
    assert references(markers(client)) == {park.reference}
    page = listed(client)
    assert park.reference in page and road.reference not in page


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REVIEWER])
def test_staff_of_another_municipality_see_nothing_and_cannot_merge(
    client, city, other_town, roads, reviewer, role
):
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0001, 139.0), resident="B")
    client.force_login(_with_mfa(staff_member(other_town, role)))
    assert markers(client)["reports"] == []
    page = listed(client)
    assert first.reference not in page and second.reference not in page
    merge = reverse("admin:procedures_submission_report_merge", args=[second.pk])
    body = {"other": first.pk, "direction": "into_other"}
    assert client.post(merge, body).status_code == 404
    unmerge = reverse("admin:procedures_submission_report_unmerge", args=[second.pk])
    assert client.post(unmerge).status_code == 404
    with tenant_scope(city):
        assert not Report.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.BROADCASTER])
def test_other_roles_get_403(client, city, roads, role):
    first = make_report(roads, HALL, resident="A")
    client.force_login(staff_member(city, role))
    assert client.get(MAP).status_code == 403
    assert client.get(MARKERS).status_code == 403
    merge = reverse("admin:procedures_submission_report_merge", args=[first.pk])
    assert client.post(merge, {"other": first.pk, "direction": "into_other"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (MAP, MARKERS):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_merging_with_a_report_of_another_department_is_a_404(city, client, roads, parks):
    road = make_report(roads, HALL, resident="A")
    park = make_report(parks, HALL, resident="B")
    reviewer = staff_member(city, Role.REVIEWER)
    staff_set_roles(
        actor=None,
        municipality=city,
        user=reviewer,
        roles=[Role.REVIEWER],
        departments=[parks.department],
    )
    client.force_login(reviewer)
    merge = reverse("admin:procedures_submission_report_merge", args=[park.pk])
    assert client.post(merge, {"other": road.pk, "direction": "into_this"}).status_code == 404


# --- filters ---------------------------------------------------------------------------------


def test_closed_and_merged_reports_are_left_out_unless_asked_for(city, client, roads, reviewer):
    open_one = make_report(roads, HALL, resident="A")
    done = make_report(roads, (35.01, 139.0), resident="B")
    merged = make_report(roads, (35.0001, 139.0), resident="C")
    with tenant_scope(city):
        case_transition(actor=reviewer, submission=done, to="rejected", reason="私有地")
        report_merge(
            actor=reviewer,
            duplicate=Report.objects.get(submission=merged),
            main=Report.objects.get(submission=open_one),
        )
    client.force_login(reviewer)
    assert references(markers(client)) == {open_one.reference}
    assert references(markers(client, status="rejected")) == {done.reference}
    both = markers(client, status=["rejected", "submitted"])
    assert references(both) == {open_one.reference, done.reference}


def test_the_category_and_dates_narrow_the_map_and_the_list(client, roads, parks, reviewer):
    road = make_report(roads, HALL, resident="A")
    park = make_report(parks, HALL, resident="B")
    old = make_report(roads, (35.1, 139.0), resident="C", now=NOW - timedelta(days=40))
    client.force_login(reviewer)
    assert references(markers(client, category=parks.pk)) == {park.reference}
    assert references(markers(client, sent_to="2026-11-01")) == {old.reference}
    assert references(markers(client, sent_from="2026-12-05", sent_to="2026-12-05")) == {
        road.reference,
        park.reference,
    }
    page = listed(client, category=roads.pk)
    assert road.reference in page and old.reference in page and park.reference not in page


def test_close_reports_of_one_category_are_flagged_as_possible_duplicates(
    client, roads, parks, reviewer
):
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0004, 139.0), resident="B")  # 44.48 m
    far = make_report(roads, (35.0005, 139.0005), resident="C")  # 55.60 m north of A
    park = make_report(parks, HALL, resident="D")
    client.force_login(reviewer)
    data = markers(client)
    ref, dup = data["fields"].index("ref"), data["fields"].index("dup")
    flags = {row[ref]: row[dup] for row in data["reports"]}
    # C is 45.54 m east of B (0.0005° of longitude at 35° north): B has two candidates.
    assert flags == {first.reference: 1, second.reference: 1, far.reference: 1, park.reference: 0}
    data = markers(client, sent_from="2026-12-06")
    assert data["reports"] == []


# --- cost --------------------------------------------------------------------------------------

# Session, user, memberships and their departments (the staff context), categories, the
# report settings, the rows, and the session's save (three statements).
MARKER_QUERIES = 10


@pytest.mark.parametrize("size", [2, 30])
def test_the_marker_data_costs_the_same_queries_whatever_the_number_of_reports(
    client, roads, reviewer, size, django_assert_num_queries
):
    for n in range(size):
        make_report(roads, (35.0 + n * 0.001, 139.0), resident=f"R{n}")
    client.force_login(reviewer)
    markers(client)  # sessions and caches warm
    with django_assert_num_queries(MARKER_QUERIES):
        assert len(markers(client, category=roads.pk)["reports"]) == size


@pytest.mark.parametrize("size", [2, 60])
def test_the_map_page_costs_the_same_queries_whatever_the_number_of_reports(
    client, roads, reviewer, size, django_assert_num_queries
):
    for n in range(size):
        make_report(roads, (35.0 + n * 0.001, 139.0), resident=f"R{n}")
    client.force_login(reviewer)
    listed(client)
    with django_assert_num_queries(MAP_PAGE_QUERIES):
        page = listed(client)
    assert page.count('data-testid="report-row"') == min(size, 50)


# Session, user, memberships and departments, vendors, categories, the page's total, its
# rows, and the session's save (three statements).
MAP_PAGE_QUERIES = 11


# --- links ---------------------------------------------------------------------------------


def test_the_inbox_and_the_home_page_link_the_map_once_there_are_categories(
    client, city, designer, reviewer
):
    client.force_login(reviewer)
    inbox = client.get(reverse("admin:procedures_submission_changelist")).content.decode()
    home = client.get(reverse("admin:index")).content.decode()
    assert MAP not in inbox and MAP not in home
    report_category(city, designer, "road", "道路")
    inbox = client.get(reverse("admin:procedures_submission_changelist")).content.decode()
    home = client.get(reverse("admin:index")).content.decode()
    assert MAP in inbox and MAP in home


# --- the case page ---------------------------------------------------------------------------


def case(client, submission) -> str:
    response = client.get(reverse("admin:procedures_submission_change", args=[submission.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_offers_possible_duplicates_and_merges_on_confirmation(
    city, client, roads, reviewer
):
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0001, 139.0), resident="B")
    client.force_login(reviewer)
    page = case(client, second)
    assert 'data-testid="duplicate-candidate"' in page and first.reference in page
    assert "11 m" in page
    merge = reverse("admin:procedures_submission_report_merge", args=[second.pk])
    response = client.post(merge, {"other": first.pk, "direction": "into_other"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:procedures_submission_change", args=[first.pk])
    with tenant_scope(city):
        assert Report.objects.get(submission=second).merged_into.submission_id == first.pk
    main_page = case(client, first)
    assert 'data-testid="merged-reports"' in main_page and second.reference in main_page
    assert 'data-testid="merged-into"' in case(client, second)
    unmerge = reverse("admin:procedures_submission_report_unmerge", args=[second.pk])
    assert client.post(unmerge, {"back": first.pk}).status_code == 302
    with tenant_scope(city):
        assert Report.objects.get(submission=second).merged_into_id is None


def test_merging_the_other_way_round_keeps_this_report_as_the_main_one(
    city, client, roads, reviewer
):
    first = make_report(roads, HALL, resident="A")
    second = make_report(roads, (35.0001, 139.0), resident="B")
    client.force_login(reviewer)
    merge = reverse("admin:procedures_submission_report_merge", args=[second.pk])
    client.post(merge, {"other": first.pk, "direction": "into_this"})
    with tenant_scope(city):
        assert Report.objects.get(submission=first).merged_into.submission_id == second.pk
        assert Submission.objects.get(pk=first.pk).status == "submitted"


def test_a_refused_merge_is_a_message_not_an_error(city, client, roads, reviewer):
    first = make_report(roads, HALL, resident="A")
    client.force_login(reviewer)
    merge = reverse("admin:procedures_submission_report_merge", args=[first.pk])
    response = client.post(merge, {"other": first.pk, "direction": "into_other"}, follow=True)
    assert response.status_code == 200
    assert "それ自身" in response.content.decode() or "itself" in response.content.decode()


def test_an_application_has_no_duplicates_panel(client, city, designer, reviewer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    client.force_login(reviewer)
    assert 'id="cw-duplicates"' not in case(client, submit_pet(city))
