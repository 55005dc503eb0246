"""Survey aggregates equal the hand count in the fixture (tests/reports/surveys/conftest.py),
under each filter, and cost the same queries however many answers there are."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govtech.access import staff_context_for
from govtech.services import staff_set_roles
from reports.surveys.results import survey_results, text_answers
from reports.surveys.selectors import (
    SurveyFilters,
    counted_submissions,
    filter_attributes,
    parse_survey_filters,
    survey_versions,
)
from tests.reports.surveys.conftest import ANSWERS, answer

pytestmark = pytest.mark.usefixtures("scope")


@pytest.fixture
def scope(city_scope):
    return city_scope


EVERYTHING = SurveyFilters()


def results_for(user, survey, filters=EVERYTHING, **kwargs):
    staff = staff_context_for(user)
    questions, _versions = survey_versions(procedure=survey)
    submissions = counted_submissions(staff=staff, procedure=survey, filters=filters)
    return survey_results(submissions, questions, **kwargs)


def cells(results, step_id):
    [result] = [r for r in results.questions if r.question.step_id == step_id]
    return result.answered, [(cell.label, cell.count, cell.percent) for cell in result.cells]


def test_choices_count_every_versions_options_with_percent_of_who_answered(
    admin_user, survey, answered
):
    results = results_for(admin_user, survey)
    assert results.respondents == 6  # neither the withdrawn answer nor the test
    assert cells(results, "sat") == (
        6,
        [("満足", 3, 50.0), ("ふつう", 1, 16.7), ("不満", 1, 16.7), ("とても不満", 1, 16.7)],
    )
    assert cells(results, "ok") == (6, [("はい", 4, 66.7), ("いいえ", 2, 33.3)])


def test_a_multiple_choice_gives_the_percent_of_the_people_who_answered_it(
    admin_user, survey, answered
):
    answered_count, rows = cells(results_for(admin_user, survey), "reasons")
    assert answered_count == 4
    assert rows == [("待ち時間", 2, 50.0), ("職員", 2, 50.0), ("書類", 2, 50.0)]


def test_numbers_and_dates_are_binned_with_the_empty_bins_between(admin_user, survey, answered):
    results = results_for(admin_user, survey)
    age_answered, ages = cells(results, "age")
    assert age_answered == 6
    assert [(label, n) for label, n, _p in ages] == [
        ("28–29", 1),
        ("30–31", 0),
        ("32–33", 0),
        ("34–35", 3),
        ("36–37", 0),
        ("38–39", 0),
        ("40–41", 2),
    ]
    visit_answered, visits = cells(results, "visit")
    assert visit_answered == 4 and len(visits) == 9  # 11/02 to 11/10, one bin a day
    assert [(label, n) for label, n, _p in visits if n] == [
        ("2026/11/02", 1),
        ("2026/11/03", 2),
        ("2026/11/10", 1),
    ]


def test_free_text_is_counted_and_listed_newest_first_with_search(admin_user, survey, answered):
    results = results_for(admin_user, survey, text_preview=2)
    [comment] = [r for r in results.questions if r.question.step_id == "comment"]
    assert comment.answered == 3 and comment.cells == ()
    assert [row["text"] for row in comment.latest_texts] == ["とても親切でした", "駐車場が狭い"]
    staff = staff_context_for(admin_user)
    submissions = counted_submissions(staff=staff, procedure=survey, filters=SurveyFilters())
    found = text_answers(submissions, "comment", search="待ち時間")
    assert [row["text"] for row in found] == ["待ち時間が長い"]


def test_filters_by_resident_attribute_version_and_date_range(admin_user, survey, answered, area):
    north = parse_survey_filters({"attr_area": "north"}, filter_attributes())
    assert north.attributes == (("area", "north"),)
    _n, sat = cells(results_for(admin_user, survey, north), "sat")
    assert [n for _label, n, _p in sat] == [3, 0, 1, 0]

    _n, sat = cells(results_for(admin_user, survey, SurveyFilters(version=1)), "sat")
    assert [n for _label, n, _p in sat] == [2, 1, 0, 0]

    days = SurveyFilters(submitted_from=date(2026, 11, 3), submitted_to=date(2026, 11, 12))
    results = results_for(admin_user, survey, days)
    assert results.respondents == 3  # the 3rd, 5th and 12th (whole Japan days)


def test_unknown_attributes_and_values_are_ignored(survey, area):
    params = {"attr_area": "east", "attr_secret": "x", "version": "two", "submitted_from": "1/2"}
    assert parse_survey_filters(params, filter_attributes()) == SurveyFilters()


def test_a_reviewer_of_another_department_counts_nothing(reviewer, city, doro, survey, answered):
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=["reviewer"], departments=[doro]
    )
    assert results_for(reviewer, survey).respondents == 0


def test_the_queries_do_not_grow_with_the_answers(admin_user, survey, answered):
    staff = staff_context_for(admin_user)
    questions, _versions = survey_versions(procedure=survey)
    submissions = counted_submissions(staff=staff, procedure=survey, filters=SurveyFilters())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            survey_results(submissions, questions, text_preview=3)
        return len(captured)

    before = queries()
    for version, where, day, answers in ANSWERS * 3:
        answer(survey, version, answers, area=where, day=day)
    # One for every question's count, one GROUP BY per counted question (5), one for
    # the free-text preview.
    assert queries() == before == 1 + 5 + 1
