"""The console pages of survey results — the list, a survey's results, its free text,
the CSV, the publishing switch — and who may reach each of them."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from reports.surveys.models import SurveyPublication
from tests.reports.surveys.conftest import ANSWERS, answer
from tests.reports.test_export_console import staff_member


def results_url(survey) -> str:
    return reverse("admin:reports_survey_results", args=[survey.pk])


def urls_of(survey) -> list[tuple[str, str, dict]]:
    """Every survey URL of the console that names the city's survey, with method and data."""
    return [
        ("get", results_url(survey), {}),
        ("get", reverse("admin:reports_survey_texts", args=[survey.pk, "comment"]), {}),
        ("get", reverse("admin:reports_survey_export", args=[survey.pk]), {}),
        (
            "post",
            reverse("admin:reports_survey_publication", args=[survey.pk]),
            {"is_public": "on", "minimum_count": "5"},
        ),
    ]


def audited(city, action: str) -> list[AuditLogEntry]:
    with tenant_scope(city):
        return list(AuditLogEntry.objects.filter(action=action))


def test_the_list_shows_surveys_with_their_answer_counts(client, reviewer, survey, answered):
    client.force_login(reviewer)
    body = client.get(reverse("admin:reports_surveys")).content.decode()
    assert "窓口満足度調査" in body and '<td class="number">6</td>' in body


def test_the_results_page_shows_counts_percentages_and_bars(client, reviewer, survey, answered):
    client.force_login(reviewer)
    body = client.get(results_url(survey)).content.decode()
    assert "6 件の回答" in body
    assert '<th scope="row">満足</th>' in body and "50.0%" in body
    assert 'style="width: 66.7%"' in body  # はい, 4 of 6
    assert "とても親切でした" in body  # the latest free text
    assert 'href="/admin/reports/surveypublication/' in body  # the CSV link


def test_the_page_filters_by_area_with_a_select_of_the_attributes_options(
    client, reviewer, survey, answered, area
):
    client.force_login(reviewer)
    body = client.get(results_url(survey), {"attr_area": "south"}).content.decode()
    assert '<option value="south" selected>南地区</option>' in body
    assert "2 件の回答" in body and "駐車場が狭い" in body and "とても親切でした" not in body


def test_the_version_filter_is_offered_when_there_are_versions(client, reviewer, survey, answered):
    client.force_login(reviewer)
    body = client.get(results_url(survey), {"version": "1"}).content.decode()
    assert '<option value="1" selected>' in body and "3 件の回答" in body


def test_free_text_is_searched_paged_and_its_reading_audited(
    client, reviewer, city, survey, answered
):
    for number in range(25):
        answer(survey, 2, {"sat": "a", "age": 30, "ok": True, "comment": f"駐輪場の話 {number}"})
    client.force_login(reviewer)
    url = reverse("admin:reports_survey_texts", args=[survey.pk, "comment"])
    body = client.get(url, {"q": "駐輪場"}).content.decode()
    assert "25 件の回答" in body and "駐輪場の話 24" in body and "駐輪場の話 4" not in body
    second = client.get(url, {"q": "駐輪場", "page": "2"}).content.decode()
    assert "駐輪場の話 4" in second and "駐車場が狭い" not in second
    entries = audited(city, "reports.survey.texts_viewed")
    assert len(entries) == 2 and entries[0].data["question"] == "comment"


def test_a_question_that_is_not_free_text_has_no_text_page(client, reviewer, survey, answered):
    client.force_login(reviewer)
    url = reverse("admin:reports_survey_texts", args=[survey.pk, "sat"])
    assert client.get(url).status_code == 404


def test_the_csv_has_a_row_per_option_and_is_audited(client, reviewer, city, survey, answered):
    client.force_login(reviewer)
    response = client.get(reverse("admin:reports_survey_export", args=[survey.pk]))
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["質問ID", "質問", "種類", "回答", "件数"]
    assert ["sat", "満足度", "単一選択", "満足", "3", "50.0", "6", "6"] in rows
    assert ["reasons", "理由", "複数選択", "書類", "2", "50.0", "4", "6"] in rows
    assert ["comment", "ご意見", "自由記述", "", "", "", "3", "6"] in rows
    assert not any("待ち時間が長い" in cell for row in rows for cell in row)
    [entry] = audited(city, "reports.survey.exported")
    assert entry.data["respondents"] == 6


def test_an_admin_publishes_the_results_and_who_and_when_are_kept(client, admin_user, city, survey):
    client.force_login(admin_user)
    url = reverse("admin:reports_survey_publication", args=[survey.pk])
    response = client.post(url, {"is_public": "on", "minimum_count": "10"})
    assert response.status_code == 302
    with tenant_scope(city):
        publication = SurveyPublication.objects.get(procedure=survey)
    assert (publication.is_public, publication.minimum_count) == (True, 10)
    assert publication.changed_by == admin_user and publication.changed_at
    [entry] = audited(city, "reports.survey.published")
    assert entry.actor == admin_user and entry.data == {"minimum_count": 10}
    body = client.get(results_url(survey)).content.decode()
    assert "/r/demo-city/surveys/satisfaction/" in body
    client.post(url, {"minimum_count": "10"})
    assert len(audited(city, "reports.survey.unpublished")) == 1


def test_a_minimum_count_below_two_is_refused(client, admin_user, city, survey):
    client.force_login(admin_user)
    url = reverse("admin:reports_survey_publication", args=[survey.pk])
    client.post(url, {"is_public": "on", "minimum_count": "1"})
    with tenant_scope(city):
        assert not SurveyPublication.objects.filter(is_public=True).exists()


def test_reviewers_read_results_but_do_not_publish_them(client, reviewer, survey):
    client.force_login(reviewer)
    assert "公開する" not in client.get(results_url(survey)).content.decode()
    url = reverse("admin:reports_survey_publication", args=[survey.pk])
    assert client.post(url, {"is_public": "on", "minimum_count": "5"}).status_code == 403


@pytest.mark.parametrize("role", ["designer", "broadcaster"])
def test_designers_and_broadcasters_are_refused_every_survey_url(client, request, role, survey):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("admin:reports_surveys")).status_code == 403
    for method, url, data in urls_of(survey):
        assert getattr(client, method)(url, data).status_code == 403, url


@pytest.mark.parametrize("role", ["admin", "reviewer", "designer", "broadcaster"])
def test_an_outsider_of_any_role_reaches_nothing_of_the_city(
    client, role, other_town, survey, answered
):
    client.force_login(staff_member(other_town, role))
    expected = 404 if role in ("admin", "reviewer") else 403
    for method, url, data in urls_of(survey):
        assert getattr(client, method)(url, data).status_code == expected, url
    if expected == 404:
        body = client.get(reverse("admin:reports_surveys")).content.decode()
        assert "窓口満足度調査" not in body


def test_a_reviewer_of_another_department_gets_404_and_one_of_its_department_reads(
    client, reviewer, city, doro, kikaku, survey, answered
):
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[doro]
    )
    client.force_login(reviewer)
    for method, url, data in urls_of(survey)[:3]:
        assert getattr(client, method)(url, data).status_code == 404, url
    assert "窓口満足度調査" not in client.get(reverse("admin:reports_surveys")).content.decode()
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[kikaku]
    )
    assert client.get(results_url(survey)).status_code == 200


def test_a_procedure_that_is_not_a_survey_has_no_results_page(client, admin_user, city, kikaku):
    from procedures.models import Procedure

    with tenant_scope(city):
        application = Procedure.objects.create(
            municipality=city, key="apply", draft={"kind": "application", "title": {"ja": "申請"}}
        )
    client.force_login(admin_user)
    url = reverse("admin:reports_survey_results", args=[application.pk])
    assert client.get(url).status_code == 404


def test_the_results_page_costs_the_same_queries_for_more_answers(
    client, reviewer, survey, answered, area
):
    client.force_login(reviewer)
    client.get(results_url(survey))  # the session and caches settle

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(results_url(survey), {"attr_area": "north"}).status_code == 200
        return len(captured)

    before = queries()
    for version, where, day, answers in ANSWERS * 5:
        answer(survey, version, answers, area=where, day=day)
    assert queries() == before
    assert before <= 20, before
