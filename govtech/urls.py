"""Top-level URLs. The simulator is mounted only where it is installed (never production)."""

from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from delivery.broadcasts.images import URL_PATTERN as BROADCAST_IMAGE
from delivery.broadcasts.images import broadcast_image
from delivery.simulator_adapter import simulator_enabled
from delivery.webhook import line_webhook
from govtech.console import console
from govtech.health import healthz
from govtech.views import favicon
from procedures.incidents.photos import after_photo_view
from procedures.views import procedure_schema

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", console.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("schemas/procedure.v1.json", procedure_schema, name="procedure-schema"),
    path("line/webhook/<str:channel_id>/", line_webhook, name="line-webhook"),
    re_path(BROADCAST_IMAGE, broadcast_image, name="broadcast-image"),
    path("report-photos/<str:token>/", after_photo_view, name="report-after-photo"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("procedures.catalog.urls")),
    path("api/v1/", include("procedures.reservations.urls")),
    path("api/v1/", include("reports.backoffice.urls")),
    # Public reports and Open311 (reports reads from every app; included by name).
    path("r/<slug:slug>/reports/", include("reports.public.urls")),
    path("open311/v2/", include("reports.open311.urls")),
    path("r/", include("reports.surveys.urls")),
    # The web form of every live procedure: /p/<municipality slug>/<procedure key>/.
    path("p/<slug:slug>/", include("procedures.webform.urls")),
]

if simulator_enabled():
    urlpatterns.append(path("simulator/", include("delivery.simulator.urls")))
