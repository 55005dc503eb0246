"""Writes of survey results: turning a survey's public results page on or off."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from govtech.models import User
from govtech.services import audit_log
from procedures.models import Procedure
from reports.surveys.models import SurveyPublication


@transaction.atomic
def survey_publication_set(
    *, actor: User | None, procedure: Procedure, is_public: bool, minimum_count: int
) -> SurveyPublication:
    """Publish (or withdraw) ``procedure``'s results page with cells under
    ``minimum_count`` hidden; who and when are kept on the row and in the audit log.
    Idempotent: setting what is already set changes nothing and logs nothing. The
    caller checks that ``actor`` may (``reports.surveys.views``)."""
    publication, _created = SurveyPublication.objects.select_for_update().get_or_create(
        procedure=procedure, defaults={"municipality_id": procedure.municipality_id}
    )
    if (publication.is_public, publication.minimum_count) == (is_public, minimum_count):
        return publication
    publication.is_public = is_public
    publication.minimum_count = minimum_count
    publication.changed_by = actor
    publication.changed_at = timezone.now()
    publication.save()
    audit_log(
        actor,
        "reports.survey.published" if is_public else "reports.survey.unpublished",
        procedure,
        {"minimum_count": minimum_count},
    )
    return publication
