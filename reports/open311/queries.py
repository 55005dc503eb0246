"""Reading Open311 parameters and the data they ask for: services of a municipality, and
service requests as the public sees them (``reports.public.selectors``: same reports,
same rounded places, approved photos only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from procedures.incidents.intake import ApiAttribute, api_attributes
from procedures.incidents.models import Report, ReportCategory
from reports.open311.formats import Open311Error
from reports.public.selectors import (
    CLOSED_STATUSES,
    PublicReport,
    present,
    public_categories,
    public_reports,
)

DEFAULT_DAYS = 90  # the spec: without dates, the most recent 90 days
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_IDS = 200


def open_services() -> QuerySet[ReportCategory]:
    """Categories an API client may see and post to: public, taking reports, with a
    published procedure."""
    return (
        public_categories()
        .filter(is_active=True, procedure__live_version__isnull=False)
        .select_related("procedure__live_version")
    )


def service_attributes(category: ReportCategory) -> list[ApiAttribute]:
    """The attributes of a category from ``open_services`` (its procedure is live)."""
    procedure = category.procedure
    version = procedure.live_version if procedure is not None else None
    return api_attributes(version.document) if version is not None else []


def service_json(category: ReportCategory) -> dict[str, Any]:
    return {
        "service_code": category.key,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": bool(service_attributes(category)),
        "type": "realtime",
        "keywords": None,
        "group": None,
    }


def attribute_json(attribute: ApiAttribute) -> dict[str, Any]:
    data: dict[str, Any] = {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": None,
        "order": attribute.order,
        "description": attribute.description,
    }
    if attribute.values:
        data["values"] = [{"key": key, "name": name} for key, name in attribute.values]
    return data


def request_json(report: PublicReport, media_url: Callable[[int], str]) -> dict[str, Any]:
    """One service request. The reporter's description and typed address are never
    published (they may name people); ``status_notes`` is the public note staff wrote."""
    return {
        "service_request_id": str(report.id),
        "status": "open" if report.is_open else "closed",
        "status_notes": report.note or None,
        "service_name": report.category_name,
        "service_code": report.category_key,
        "description": None,
        "requested_datetime": report.created_at.isoformat(),
        "updated_datetime": (
            report.closed_at or report.updated_at or report.created_at
        ).isoformat(),
        "address": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": media_url(report.photo_ids[0]) if report.photo_ids else None,
    }


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def _listed(params: QueryDict, name: str) -> tuple[str, ...]:
    return tuple(
        item.strip() for value in params.getlist(name) for item in value.split(",") if item.strip()
    )


def _when(params: QueryDict, name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s must be a W3C date and time.") % {"name": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _number(params: QueryDict, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Open311Error(
            400,
            _("%(name)s must be a whole number from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high},
        )
    return int(raw)


def request_query(params: QueryDict) -> RequestQuery:
    """The GET requests parameters, checked (Open311Error 400 naming the bad one)."""
    ids = _listed(params, "service_request_id")
    if any(not value.isdigit() for value in ids) or len(ids) > MAX_IDS:
        raise Open311Error(
            400, _("service_request_id must be up to %(n)d numbers.") % {"n": MAX_IDS}
        )
    statuses = _listed(params, "status")
    if any(status not in ("open", "closed") for status in statuses):
        raise Open311Error(400, _("status must be open or closed."))
    return RequestQuery(
        ids=tuple(int(value) for value in ids),
        service_codes=_listed(params, "service_code"),
        start=_when(params, "start_date"),
        end=_when(params, "end_date"),
        statuses=statuses,
        page=_number(params, "page", 1, 1, 10_000),
        page_size=_number(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    )


def requests_for(query: RequestQuery, *, now: datetime) -> QuerySet[Report]:
    """The public reports ``query`` asks for, one page. Ids override every other filter
    (as the spec says); otherwise the dates default to the last 90 days."""
    reports = public_reports()
    if query.ids:
        return reports.filter(pk__in=query.ids)
    if query.service_codes:
        reports = reports.filter(category__key__in=query.service_codes)
    start, end = query.start, query.end
    if start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    if start is not None:
        reports = reports.filter(created_at__gte=start)
    if end is not None:
        reports = reports.filter(created_at__lte=end)
    if query.statuses == ("open",):
        reports = reports.exclude(submission__status__in=CLOSED_STATUSES)
    elif query.statuses == ("closed",):
        reports = reports.filter(submission__status__in=CLOSED_STATUSES)
    offset = (query.page - 1) * query.page_size
    return reports[offset : offset + query.page_size]


def presented(reports: QuerySet[Report], precision_m: int) -> list[PublicReport]:
    return [present(report, precision_m=precision_m) for report in reports]
