"""Public URLs of survey results (mounted under ``/r/`` by the root URLconf)."""

from django.urls import path

from reports.surveys.public import public_results_view

urlpatterns = [
    path("<slug:slug>/surveys/<slug:key>/", public_results_view, name="survey-public"),
]
