"""The public report page of a municipality (/r/<slug>/reports/): a map and a list of
reports that works without JavaScript, an embeddable variant without the page chrome,
and the photos staff approved. 404 unless the municipality publishes its reports.

What may be shown is decided in ``reports.public.selectors`` (shared with Open311).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from govtech.models import Municipality
from govtech.ratelimit import public_rate_limit
from govtech.tenancy import tenant_scope
from procedures.incidents.models import ReportSettings
from reports.public.selectors import (
    PUBLIC_STATUS_LABELS,
    PublicReport,
    filter_public_reports,
    present,
    public_categories,
    public_photo,
    public_reports,
    public_settings,
    public_status_of,
    rounded_point,
)

PAGE_SIZE = 30
MAX_PAGE = 10_000
MAP_POINTS = 1000  # the most recent reports of the filter drawn on the map
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _publishing(slug: str) -> tuple[Municipality, ReportSettings]:
    municipality = Municipality.objects.filter(slug=slug).first()
    found = public_settings(municipality) if municipality is not None else None
    if municipality is None or found is None:
        raise Http404
    return municipality, found


def _map_points(reports, precision_m: int) -> list[dict[str, Any]]:
    rows = reports.values_list(
        "latitude", "longitude", "category__name", "submission__status", "created_at"
    )[:MAP_POINTS]
    points = []
    for latitude, longitude, category, status, created_at in rows:
        lat, lon = rounded_point(latitude, longitude, precision_m)
        if lat is not None:
            status_key = public_status_of(status)
            date = timezone.localdate(created_at).isoformat()
            points.append(
                {"lat": lat, "lon": lon, "category": category, "status": status_key, "date": date}
            )
    return points


def _map_config(reports, precision_m: int) -> dict[str, Any] | None:
    if not settings.MAP_TILE_URL:
        return None
    labels = {key: str(label) for key, label in PUBLIC_STATUS_LABELS.items()}
    return {
        "tiles": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "maxZoom": settings.MAP_TILE_MAX_ZOOM,
        },
        "points": _map_points(reports, precision_m),
        "statusLabels": labels,
        "icon": {
            "url": static("vendor/leaflet/images/marker-icon.png"),
            "retinaUrl": static("vendor/leaflet/images/marker-icon-2x.png"),
            "shadowUrl": static("vendor/leaflet/images/marker-shadow.png"),
        },
    }


def _page_number(raw: str) -> int:
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) > 0 else 1


def _page_context(request: HttpRequest, municipality, report_settings, *, embed: bool) -> dict:
    categories = list(public_categories().only("key", "name"))
    chosen_category = request.GET.get("category", "")
    chosen_status = request.GET.get("status", "")
    reports = filter_public_reports(
        public_reports(),
        category_keys=[chosen_category] if chosen_category else [],
        statuses=[chosen_status] if chosen_status in PUBLIC_STATUS_LABELS else [],
    )
    number = _page_number(request.GET.get("page", ""))
    # One row more than a page says whether there is a next one: no count of every
    # report (the sort is the newest-first index's; a count would read them all).
    rows = list(reports[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
    precision = report_settings.public_precision_m
    shown: list[PublicReport] = [present(r, precision_m=precision) for r in rows[:PAGE_SIZE]]
    page = {
        "number": number,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if len(rows) > PAGE_SIZE else None,
    }
    filters = {k: v for k, v in (("category", chosen_category), ("status", chosen_status)) if v}
    return {
        "municipality": municipality,
        "precision_m": precision,
        "categories": categories,
        "statuses": list(PUBLIC_STATUS_LABELS.items()),
        "chosen_category": chosen_category,
        "chosen_status": chosen_status,
        "page": page,
        "reports": shown,
        "filter_query": urlencode(filters),
        "map_config": _map_config(reports, precision),
        "embed": embed,
        "page_url": reverse("public-reports", args=[municipality.slug]),
        "embed_url": request.build_absolute_uri(
            reverse("public-reports-embed", args=[municipality.slug])
        ),
    }


@require_GET
@public_rate_limit("public-reports")
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    municipality, report_settings = _publishing(slug)
    with tenant_scope(municipality):
        context = _page_context(request, municipality, report_settings, embed=False)
        return render(request, "reports/public/page.html", context)


@require_GET
@xframe_options_exempt
@public_rate_limit("public-reports")
def report_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The page without its chrome, for the city's own site to frame: the only page that
    may be framed, by the sites REPORTS_EMBED_FRAME_ANCESTORS names."""
    municipality, report_settings = _publishing(slug)
    with tenant_scope(municipality):
        context = _page_context(request, municipality, report_settings, embed=True)
        response = render(request, "reports/public/embed.html", context)
    # What django-csp's csp_replace decorator sets, read per request so the setting can
    # change without a restart of the tests' process.
    ancestors = settings.REPORTS_EMBED_FRAME_ANCESTORS.split()
    setattr(response, "_csp_replace", {"frame-ancestors": ancestors})  # noqa: B010
    return response


@require_GET
@public_rate_limit("public-reports")
def report_photo(request: HttpRequest, slug: str, photo_id: int) -> FileResponse:
    """A photo staff approved, of a report the public may see; 404 for any other (never
    the upload's own media URL)."""
    municipality, _settings = _publishing(slug)
    with tenant_scope(municipality):
        photo = public_photo(photo_id)
        if photo is None:
            raise Http404
        upload = photo.upload
        file = upload.file if upload is not None else photo.file
        content_type = upload.content_type if upload is not None else photo.content_type
    if content_type not in PHOTO_TYPES:
        raise Http404
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
