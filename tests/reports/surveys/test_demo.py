"""The demo's survey answers: made through the conversation runtime, once."""

from __future__ import annotations

import pytest

from govtech.tenancy import tenant_scope
from procedures.catalog.starters import starter_documents
from procedures.models import Procedure, Submission
from procedures.services import procedure_publish
from reports.surveys.demo import OPINIONS, RESPONDENTS, demo_surveys_ensure
from reports.surveys.models import SurveyPublication

pytestmark = pytest.mark.slow  # about 350 conversation turns


@pytest.fixture
def starters(city):
    keys = {"citizen-survey-2026", "public-comment"}
    for document in starter_documents():
        if document["key"] in keys:
            with tenant_scope(city):
                procedure = Procedure.objects.create(
                    municipality=city, key=document["key"], draft=document
                )
            procedure_publish(actor=None, procedure=procedure)


def test_the_demo_answers_its_surveys_once_and_publishes_the_satisfaction_results(city, starters):
    assert demo_surveys_ensure(municipality=city) == RESPONDENTS + len(OPINIONS)
    assert demo_surveys_ensure(municipality=city) == 0
    with tenant_scope(city):
        answers = Submission.objects.filter(procedure__key="citizen-survey-2026")
        assert answers.count() == RESPONDENTS
        areas = {s.resident.attributes["area"] for s in answers}
        assert areas == {"north", "south", "east", "west"}
        assert SurveyPublication.objects.get().is_public
