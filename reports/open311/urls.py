"""Open311 GeoReport v2, mounted at /open311/v2/ (DESIGN.md's contract)."""

from django.urls import path, re_path

from reports.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views.discovery_page, name="open311-root"),
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.services, name="open311-services"),
    re_path(
        r"^services/(?P<code>[-a-zA-Z0-9_]+)" + FORMAT,
        views.service_definition,
        name="open311-service",
    ),
    re_path(r"^requests" + FORMAT, views.service_requests, name="open311-requests"),
    re_path(
        r"^requests/(?P<request_id>[0-9]{1,18})" + FORMAT,
        views.service_request,
        name="open311-request",
    ),
]
