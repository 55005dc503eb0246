"""The public results page of a survey: aggregates only, small cells hidden, in
Japanese, without JavaScript, at ``/r/<municipality slug>/surveys/<procedure key>/``.

Anyone may open it once staff have published it; until then, and for anything that is
not a published survey of that municipality, it is a 404. No filters: comparing
filtered tables is how hidden cells are recomputed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils import translation

from govtech.models import Municipality
from govtech.ratelimit import public_rate_limit
from govtech.tenancy import tenant_scope
from reports.surveys.results import publishable, survey_results
from reports.surveys.selectors import public_submissions, public_survey, survey_versions


@public_rate_limit("public-surveys")
def public_results_view(request: HttpRequest, slug: str, key: str) -> TemplateResponse:
    municipality = Municipality.objects.filter(slug=slug).first()
    if municipality is None:
        raise Http404
    with tenant_scope(municipality), translation.override("ja"):
        found = public_survey(municipality=municipality, key=key)
        if found is None:
            raise Http404
        procedure, minimum = found
        questions, _versions = survey_versions(procedure=procedure)
        results = survey_results(public_submissions(procedure=procedure), questions)
        response = TemplateResponse(
            request,
            "reports/surveys/public.html",
            {
                "municipality": municipality,
                "procedure": procedure,
                "results": publishable(results, minimum),
                "minimum": minimum,
            },
        )
        response.render()  # inside the scope and the language
    return response
