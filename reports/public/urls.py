"""The public report page of a municipality, mounted at /r/<slug>/reports/."""

from django.urls import path

from reports.public import views

urlpatterns = [
    path("", views.report_page, name="public-reports"),
    path("embed/", views.report_embed, name="public-reports-embed"),
    path("photos/<int:photo_id>/", views.report_photo, name="public-report-photo"),
]
