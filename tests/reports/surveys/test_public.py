"""The public results page: off until an admin publishes it, aggregates only, small
cells and whatever would give them back hidden as 「-」, Japanese, no JavaScript."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from govtech.tenancy import tenant_scope
from reports.surveys.models import SurveyPublication
from tests.factories import DepartmentFactory
from tests.reports.surveys.conftest import V2

URL = "/r/demo-city/surveys/satisfaction/"


def publish(survey, minimum=3) -> None:
    with tenant_scope(survey.municipality):
        SurveyPublication.objects.update_or_create(
            municipality=survey.municipality,
            procedure=survey,
            defaults={"is_public": True, "minimum_count": minimum, "changed_at": timezone.now()},
        )


def section(body: str, label: str) -> str:
    """The HTML of the question titled ``label``."""
    match = re.search(rf"<h2>{label}</h2>(.*?)</section>", body, re.S)
    assert match, label
    return match.group(1)


def rows(html: str) -> list[tuple[str, str, str]]:
    """(label, count, percent) of a chart's rows."""
    found = re.findall(
        r'<th scope="row">(.*?)</th>.*?'
        r'<td class="number">(.*?)</td>\s*<td class="number">(.*?)</td>',
        html,
        re.S,
    )
    return [(label, count, percent) for label, count, percent in found]


def test_results_are_not_public_until_published(client, survey, answered):
    assert client.get(URL).status_code == 404
    publish(survey)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Language"] == "ja" or '<html lang="ja">' in response.content.decode()


def test_the_page_is_japanese_and_needs_no_javascript(client, survey, answered):
    publish(survey)
    body = client.get(URL).content.decode()
    assert "窓口満足度調査 結果" in body and "6 件の回答" in body and "回答者 6 人" in body
    assert "<script" not in body


def test_a_choice_with_small_cells_hides_them_and_shows_the_big_one(client, survey, answered):
    publish(survey, minimum=3)
    sat = rows(section(client.get(URL).content.decode(), "満足度"))
    # 3 · 1 · 1 · 1: the three 1s hidden (together 3, not recomputable one by one).
    assert sat == [
        ("満足", "3", "50.0%"),
        ("ふつう", "-", "-"),
        ("不満", "-", "-"),
        ("とても不満", "-", "-"),
    ]


def test_one_small_cell_takes_another_with_it_so_the_total_cannot_give_it_back(
    client, survey, answered
):
    publish(survey, minimum=3)
    html = section(client.get(URL).content.decode(), "また利用したいですか")
    # はい 4, いいえ 2 of 6 answers: hiding only いいえ would leave it as 6 − 4.
    assert rows(html) == [("はい", "-", "-"), ("いいえ", "-", "-")]
    assert "回答者 6 人" in html
    assert "66.7" not in html and "33.3" not in html and "width" not in html


def test_a_multiple_choice_hides_only_its_small_options(client, survey, answered):
    publish(survey, minimum=2)
    html = section(client.get(URL).content.decode(), "理由")
    expected = [("待ち時間", "2", "50.0%"), ("職員", "2", "50.0%"), ("書類", "2", "50.0%")]
    assert rows(html) == expected
    publish(survey, minimum=3)
    html = section(client.get(URL).content.decode(), "理由")
    assert [count for _label, count, _p in rows(html)] == ["-", "-", "-"]


def test_histogram_bins_are_suppressed_like_choices(client, survey, answered):
    publish(survey, minimum=3)
    html = section(client.get(URL).content.decode(), "年齢")
    counts = [count for _label, count, _p in rows(html)]
    # 1 · 0 · 0 · 3 · 0 · 0 · 2: the 1 and the 2 are hidden (together 3).
    assert counts == ["-", "0", "0", "3", "0", "0", "-"]


def test_a_question_answered_by_too_few_is_withheld_whole(client, survey, answered):
    publish(survey, minimum=5)
    body = client.get(URL).content.decode()
    assert "回答が少ないため公開していません。" in section(body, "来庁日")  # 4 answers
    assert "回答者 6 人" in section(body, "満足度")


def test_a_survey_with_too_few_answers_publishes_nothing(client, survey, answered):
    publish(survey, minimum=7)
    body = client.get(URL).content.decode()
    assert "回答が少ないため公開していません。" in body and "<h2>" not in body


def test_free_text_and_personal_answers_are_never_public(client, survey, answered):
    publish(survey, minimum=2)
    body = client.get(URL).content.decode()
    assert "ご意見" not in body
    for text in ("待ち時間が長い", "駐車場が狭い", "とても親切でした", "S-0"):
        assert text not in body


def test_another_municipalitys_slug_or_an_unpublished_survey_is_a_404(
    client, survey, answered, other_town
):
    publish(survey)
    assert client.get("/r/other-town/surveys/satisfaction/").status_code == 404
    assert client.get("/r/nowhere/surveys/satisfaction/").status_code == 404
    with tenant_scope(survey.municipality):
        survey.live_version = None
        survey.save(update_fields=["live_version"])
    assert client.get(URL).status_code == 404


def test_a_procedure_that_is_not_a_survey_is_never_public(client, city, survey):
    from procedures.models import Procedure, ProcedureVersion

    document = {**V2, "key": "apply", "kind": "application"}
    with tenant_scope(city):
        application = Procedure.objects.create(
            municipality=city,
            department=DepartmentFactory(municipality=city),
            key="apply",
            draft=document,
        )
        version = ProcedureVersion.objects.create(
            municipality=city, procedure=application, number=1, document=document
        )
        application.live_version = version
        application.save(update_fields=["live_version"])
    publish(application)
    assert client.get("/r/demo-city/surveys/apply/").status_code == 404


@pytest.mark.parametrize("who", ["outsider", "designer"])
def test_signed_in_staff_see_the_public_page_as_anyone_does(client, request, who, survey, answered):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 404
    publish(survey)
    body = client.get(URL).content.decode()
    assert "待ち時間が長い" not in body and "6 件の回答" in body
