"""The dashboard pages: what each shows from the aggregates of the hand-counted city, who
may reach which URL (an outsider of any role, a reviewer of another department), and that
a page's query count does not grow with the figures."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govtech.models import Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from reports.dashboards.aggregation import aggregates_compute
from tests.factories import staff_member
from tests.reports.dashboards.fixtures import FIRST, LAST, at
from tests.reports.test_export_console import staff_member as signing_in_staff

RANGE = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture
def computed(dashboard_city):
    aggregates_compute(municipality=dashboard_city, first=FIRST, last=LAST)
    return dashboard_city


def overview_url() -> str:
    return reverse("admin:reports_dashboard")


def procedure_url(procedure) -> str:
    return reverse("admin:reports_dashboard_procedure", args=[procedure.pk])


def reservations_url() -> str:
    return reverse("admin:reports_dashboard_reservations")


def urls_of(bulky, hall) -> list[tuple[str, dict]]:
    """Every dashboard URL that names something of the city."""
    return [
        (procedure_url(bulky), RANGE),
        (reservations_url(), {"resource": hall.pk, **RANGE}),
    ]


def shown(body: str, name: str) -> str:
    """The text of the first element with data-testid ``name``."""
    start = body.index(f'data-testid="{name}"')
    return body[body.index(">", start) + 1 : body.index("<", start)]


def test_the_overview_shows_friends_coverage_blocks_and_broadcasts(client, admin_user, computed):
    with tenant_scope(computed):
        computed.population = 60
        computed.save(update_fields=["population"])
    client.force_login(admin_user)
    body = client.get(overview_url(), RANGE).content.decode()
    assert shown(body, "friends-total") == "6"  # at the end of 11/21
    assert shown(body, "coverage") == "10.0%"  # 6 of 60
    assert (shown(body, "follows"), shown(body, "blocks")) == ("5", "2")
    assert shown(body, "block-rate") == "25.0%"  # 2 of the 3 there at the start and 5 who came
    assert "年末年始のごみ収集" in body and "33.3%" in body  # 2 of its 6 recipients
    assert 'src="/static/vendor/chart.js/chart.umd.min.js"' in body
    assert 'id="friends-chart" type="application/json"' in body
    assert "粗大ごみ収集の申込" in body


def test_the_overview_asks_for_the_population_when_none_is_entered(client, admin_user, computed):
    with tenant_scope(computed):
        computed.population = 0
        computed.save(update_fields=["population"])
    client.force_login(admin_user)
    body = client.get(overview_url(), RANGE).content.decode()
    assert shown(body, "coverage") == "—"
    change = reverse("admin:govtech_municipality_change", args=[computed.pk])
    assert f'<a href="{change}">未入力</a>' in body


def test_a_procedures_page_shows_its_hand_counted_funnel(client, admin_user, computed, bulky):
    client.force_login(admin_user)
    body = client.get(procedure_url(bulky), RANGE).content.decode()
    assert (shown(body, "started"), shown(body, "completed")) == ("8", "2")
    assert shown(body, "completion-rate") == "25.0%"
    assert shown(body, "median") == "20分"
    rows = body.split('data-testid="funnel-row"')[1:]
    found = [
        (row.split('data-step="')[1].split('"')[0], shown(row, "reached"), shown(row, "stopped"))
        for row in rows
    ]
    assert found == [
        ("name", "8", "3"),  # the 11/21 conversation too: the range has three days
        ("kind", "5", "1"),
        ("photo", "4", "1"),
        ("confirm", "3", "1"),
    ]
    assert "確認（内容の表示と送信）" in body and "氏名" in body
    assert "Webフォーム" in body  # the channel of the web submission


def test_the_reservations_page_shows_occupancy_and_no_shows(client, admin_user, computed, hall):
    client.force_login(admin_user)
    body = client.get(reservations_url(), RANGE).content.decode()
    assert "リサイクル館" in body
    assert shown(body, "occupancy") == "15.0%"  # 3 of 20 places
    assert shown(body, "no-shows") == "1"


def test_the_range_defaults_to_the_last_30_days_up_to_yesterday(client, admin_user, computed):
    import time_machine

    client.force_login(admin_user)
    with time_machine.travel(at(LAST, 12), tick=False):
        body = client.get(overview_url()).content.decode()
    assert 'name="from" value="2026-10-22"' in body and 'name="to" value="2026-11-20"' in body


def test_a_broadcaster_sees_friends_but_no_procedure_nor_reservation(
    client, broadcaster, computed, bulky, hall
):
    client.force_login(broadcaster)
    body = client.get(overview_url(), RANGE).content.decode()
    assert 'data-testid="dash-friends"' in body and 'data-testid="dash-procedures"' not in body
    for url, data in urls_of(bulky, hall):
        assert client.get(url, data).status_code == 403, url


def test_a_designer_sees_procedures_but_not_friends_nor_reservations(
    client, designer, computed, bulky, hall
):
    client.force_login(designer)
    body = client.get(overview_url(), RANGE).content.decode()
    assert 'data-testid="dash-friends"' not in body and "粗大ごみ収集の申込" in body
    assert client.get(procedure_url(bulky), RANGE).status_code == 200
    assert client.get(reservations_url(), RANGE).status_code == 403


def test_a_reviewer_of_another_department_gets_404_and_one_of_its_department_the_page(
    client, reviewer, city, computed, bulky, hall, sodai
):
    from tests.factories import DepartmentFactory

    doro = DepartmentFactory(municipality=city, code="doro", name="道路課")
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[doro]
    )
    client.force_login(reviewer)
    for url, data in urls_of(bulky, hall):
        assert client.get(url, data).status_code == 404, url
    body = client.get(overview_url(), RANGE).content.decode()
    assert "粗大ごみ収集の申込" not in body and 'data-testid="dash-friends"' not in body
    assert "リサイクル館" not in client.get(reservations_url(), RANGE).content.decode()
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[sodai]
    )
    for url, data in urls_of(bulky, hall):
        assert client.get(url, data).status_code == 200, url


@pytest.mark.parametrize("role", ["admin", "reviewer", "designer", "broadcaster"])
def test_an_outsider_of_any_role_reaches_nothing_of_the_city(
    client, role, other_town, computed, bulky, hall
):
    client.force_login(signing_in_staff(other_town, role))
    expected = {"admin": (404, 404), "reviewer": (404, 404), "designer": (404, 403)}
    procedure, reservations = expected.get(role, (403, 403))
    [(procedure_page, data), (reservations_page, query)] = urls_of(bulky, hall)
    assert client.get(procedure_page, data).status_code == procedure
    assert client.get(reservations_page, query).status_code == reservations
    body = client.get(overview_url(), RANGE).content.decode()
    assert client.get(overview_url(), RANGE).status_code == 200
    for seen in (
        "粗大ごみ収集の申込",
        "年末年始のごみ収集",
        "リサイクル館",
        'data-testid="friends-total">6',
    ):
        assert seen not in body


def test_an_operator_without_a_municipality_finds_no_dashboard(client, operator, computed):
    client.force_login(operator)
    assert client.get(overview_url()).status_code == 404


def test_the_municipality_admin_enters_the_population_in_the_municipality_settings(
    client, admin_user, city
):
    client.force_login(admin_user)
    change = reverse("admin:govtech_municipality_change", args=[city.pk])
    form = client.get(change).content.decode()
    assert 'name="population"' in form
    data = {"name": city.name, "name_en": "", "prefecture": "東京都", "population": "123456"}
    data |= {"reference_prefix": "", "_save": "1"}
    assert client.post(change, data).status_code == 302
    city.refresh_from_db()
    assert city.population == 123456


def test_the_pages_query_count_does_not_grow_with_the_days(
    client, admin_user, computed, bulky, hall
):
    client.force_login(admin_user)
    client.get(overview_url())  # warm: the disaster banner's state is cached after one read
    counts = []
    for last in (FIRST, LAST):
        window = {"from": FIRST.isoformat(), "to": last.isoformat()}
        for url, data in [(overview_url(), {}), *urls_of(bulky, hall)]:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, {**data, **window}).status_code == 200
            counts.append(len(queries))
    assert counts[:3] == counts[3:]
    assert max(counts) <= 15, counts


def test_a_staff_member_without_a_role_here_is_kept_out(client, city, computed):
    nobody = staff_member(city)  # a user of no role
    client.force_login(nobody)
    assert client.get(overview_url()).status_code in (302, 403)
