"""API URLs of reservations, mounted under /api/v1/."""

from django.urls import path

from procedures.reservations import api

urlpatterns = [
    path(
        "municipalities/<slug:slug>/resources/<slug:key>/availability/",
        api.ResourceAvailabilityView.as_view(),
        name="api-resource-availability",
    ),
]
