"""The console's survey results: registered on the console site so that its pages sit
behind ``admin_view`` (login, staff, tenant scope); the list is the surveys page."""

from django.contrib import admin
from django.urls import path

from govtech.console import TenantModelAdmin, console
from procedures.casework.selectors import REVIEW_ROLES
from reports.surveys import views
from reports.surveys.models import SurveyPublication


@admin.register(SurveyPublication, site=console)
class SurveyPublicationAdmin(TenantModelAdmin):
    """Results live on their own pages (``reports.surveys.views``); publishing is a form
    there, never Django's change form."""

    view_roles = REVIEW_ROLES
    edit_roles: frozenset[str] = frozenset()

    def has_add_permission(self, request, *args):
        return False

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(views.surveys_view), name="reports_surveys"),
            path("<int:pk>/", view(views.results_view), name="reports_survey_results"),
            path(
                "<int:pk>/texts/<slug:step_id>/",
                view(views.texts_view),
                name="reports_survey_texts",
            ),
            path("<int:pk>/export/", view(views.export_view), name="reports_survey_export"),
            path(
                "<int:pk>/publication/",
                view(views.publication_view),
                name="reports_survey_publication",
            ),
            *super().get_urls(),
        ]
