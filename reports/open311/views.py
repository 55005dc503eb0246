"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, service definitions,
service requests (list, one, post). ``jurisdiction_id`` is the municipality's slug; only
municipalities that publish their reports answer. Errors in the spec's format; every
caller throttled (per API key, else per address).

Thin views: parameters → access (jurisdiction, key) → selector or service → response.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from govtech.models import Municipality
from govtech.ratelimit import client_address, over_limit
from govtech.tenancy import tenant_scope
from procedures.incidents.intake import ApiReport, ApiReportRejected, report_submit_from_api
from procedures.incidents.models import ReportSettings
from reports.models import Open311Client
from reports.open311 import queries
from reports.open311.clients import open311_client_for_key
from reports.open311.formats import Open311Error, error_response, respond
from reports.public.selectors import public_settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
HANDLE_MAX = 120
ATTRIBUTE_PARAMETER = re.compile(r"^attribute\[(?P<code>[^\[\]]+)\](\[\])?$")


def _rate_limited(request: HttpRequest) -> bool:
    """True when this caller (its key, else its address) asked too often this minute."""
    who = request.POST.get("api_key") or request.GET.get("api_key") or client_address(request)
    return over_limit("open311", who, settings.OPEN311_REQUESTS_PER_MINUTE)


def _jurisdiction(request: HttpRequest) -> tuple[Municipality, ReportSettings]:
    slug = (request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id", "")).strip()
    if not slug:
        raise Open311Error(400, _("jurisdiction_id is required."))
    municipality = Municipality.objects.filter(slug=slug).first()
    found = public_settings(municipality) if municipality is not None else None
    if municipality is None or found is None:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": slug})
    return municipality, found


Open311View = Callable[..., HttpResponse]


def open311_endpoint(view: Open311View) -> Callable[..., HttpResponse]:
    """Throttle, find the jurisdiction, enter its scope, answer errors in the spec's
    format; ``view(request, fmt, municipality, report_settings, **kwargs)``."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
        try:
            if _rate_limited(request):
                raise Open311Error(429, _("Too many requests: try again in a minute."))
            municipality, report_settings = _jurisdiction(request)
            with tenant_scope(municipality):
                response = view(request, fmt, municipality, report_settings, **kwargs)
        except Open311Error as error:
            response = error_response(fmt, error)
            if error.status == 429:
                response["Retry-After"] = "60"
        # Public, read by maps on other sites; no cookie is ever used for authentication.
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def _endpoint_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311-root"))


def _only(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise Open311Error(405, _("This method is not allowed here."))


@open311_endpoint
def discovery(request, fmt, municipality, report_settings) -> HttpResponse:
    _only(request, "GET")
    changeset = timezone.now().replace(microsecond=0).isoformat()
    payload = {
        "changeset": changeset,
        "contact": municipality.name,
        "key_service": _("Ask %(city)s for an API key.") % {"city": municipality.name},
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": _endpoint_url(request).rstrip("/"),
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return respond(fmt, "discovery", payload)


@open311_endpoint
def services(request, fmt, municipality, report_settings) -> HttpResponse:
    _only(request, "GET")
    payload = [queries.service_json(category) for category in queries.open_services()]
    return respond(fmt, "services", payload)


@open311_endpoint
def service_definition(request, fmt, municipality, report_settings, code: str) -> HttpResponse:
    _only(request, "GET")
    category = queries.open_services().filter(key=code).first()
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code})
    attributes = [queries.attribute_json(a) for a in queries.service_attributes(category)]
    payload = {"service_code": category.key, "attributes": attributes}
    return respond(fmt, "service_definition", payload)


def _media_url(request: HttpRequest, municipality: Municipality) -> Callable[[int], str]:
    def url(photo_id: int) -> str:
        path = reverse("public-report-photo", args=[municipality.slug, photo_id])
        return request.build_absolute_uri(path)

    return url


def _requests_response(request, fmt, municipality, report_settings, reports) -> HttpResponse:
    media_url = _media_url(request, municipality)
    shown = queries.presented(reports, report_settings.public_precision_m)
    payload = [queries.request_json(report, media_url) for report in shown]
    return respond(fmt, "service_requests", payload)


@open311_endpoint
def service_requests(request, fmt, municipality, report_settings) -> HttpResponse:
    _only(request, "GET", "POST")
    if request.method == "POST":
        return _post_request(request, fmt, municipality)
    query = queries.request_query(request.GET)
    reports = queries.requests_for(query, now=timezone.now())
    return _requests_response(request, fmt, municipality, report_settings, reports)


@open311_endpoint
def service_request(request, fmt, municipality, report_settings, request_id: str) -> HttpResponse:
    _only(request, "GET")
    query = queries.RequestQuery(ids=(int(request_id),))
    reports = queries.requests_for(query, now=timezone.now())
    if not reports:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": request_id})
    return _requests_response(request, fmt, municipality, report_settings, reports)


# --- POST requests ---------------------------------------------------------------------


def _client(request: HttpRequest, municipality: Municipality) -> Open311Client:
    client = open311_client_for_key(request.POST.get("api_key", "").strip())
    if client is None or client.municipality_id != municipality.pk:
        raise Open311Error(403, _("api_key is missing or not valid for this jurisdiction."))
    return client


def _coordinate(raw: str, name: str, limit: float) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, _("%(name)s must be a number in degrees.") % {"name": name})
    return value


def _media(raw: str) -> str:
    if not raw:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(raw)
    except ValidationError as error:
        raise Open311Error(400, _("media_url must be an http or https URL.")) from error
    return raw[:1000]


def _attributes(data) -> dict[str, list[str]]:
    """``attribute[code]=value`` and ``attribute[code][]=value`` (repeated for lists)."""
    found: dict[str, list[str]] = {}
    for name in data:
        match = ATTRIBUTE_PARAMETER.match(name)
        if match:
            found.setdefault(match["code"], []).extend(data.getlist(name))
    return found


def _reporter_handle(client: Open311Client, data) -> str:
    who = (
        data.get("email", "").strip().lower()
        or data.get("device_id", "").strip()
        or data.get("account_id", "").strip()
        or "anonymous"
    )
    return f"open311:{client.pk}:{who}"[:HANDLE_MAX]


def api_report_from(data, client: Open311Client) -> ApiReport:
    """The POST parameters as an ApiReport; Open311Error 400 for what the spec requires."""
    latitude = _coordinate(data.get("lat", ""), "lat", 90)
    longitude = _coordinate(data.get("long", ""), "long", 180)
    address = data.get("address_string", "").strip() or data.get("address_id", "").strip()
    if (latitude is None) != (longitude is None) or (latitude is None and not address):
        raise Open311Error(400, _("Give the location: lat and long, or address_string."))
    description = data.get("description", "").strip()
    if len(description) > 4000:
        raise Open311Error(400, _("description may be up to 4000 characters."))
    name = " ".join(p for p in (data.get("last_name", ""), data.get("first_name", "")) if p)
    return ApiReport(
        reporter_handle=_reporter_handle(client, data),
        reporter_name=name.strip(),
        latitude=latitude,
        longitude=longitude,
        address=address,
        description=description,
        phone=data.get("phone", "").strip(),
        email=data.get("email", "").strip(),
        media_url=_media(data.get("media_url", "").strip()),
        attributes=_attributes(data),
    )


def _post_request(request: HttpRequest, fmt: str, municipality: Municipality) -> HttpResponse:
    client = _client(request, municipality)
    code = request.POST.get("service_code", "").strip()
    category = queries.open_services().filter(key=code).first() if code else None
    if category is None:
        raise Open311Error(400, _("service_code %(code)s was not found.") % {"code": code})
    report = api_report_from(request.POST, client)
    try:
        submission = report_submit_from_api(category=category, report=report, now=timezone.now())
    except ApiReportRejected as error:
        raise Open311Error(400, str(error)) from error
    notice = _("Received. Reference: %(reference)s") % {"reference": submission.reference}
    payload = [{"service_request_id": str(submission.report.pk), "service_notice": notice}]
    return respond(fmt, "service_requests", payload)


def discovery_page(request: HttpRequest) -> HttpResponse:
    """The endpoint's root: where discovery is (the spec's clients start there)."""
    return respond("json", "", {"discovery": _endpoint_url(request) + "discovery.json"})
