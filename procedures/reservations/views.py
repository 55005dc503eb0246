"""Staff console pages of reservations: calendar, phone bookings, cancel, attendance,
blocking slots and the CSV export.

Mounted by ResourceAdmin/BookingAdmin ``get_urls`` behind the console's ``admin_view``
(login, staff, tenant scope). Each view: access → service → response. Access: admins,
and reviewers of the resource's department (all when they have none) manage; other roles
get 403; a resource or booking they cannot manage (another municipality's included) is a
404, the same as a missing one.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govtech.access import staff_context
from govtech.console import console
from govtech.services import audit_log
from procedures.reservations.forms import (
    AttendanceForm,
    BlockForm,
    CancelForm,
    ExportForm,
    PhoneBookingForm,
)
from procedures.reservations.models import Booking, BookingSource, Resource
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import (
    CalendarDay,
    bookings_for_staff,
    bookings_in_period,
    resources_for_staff,
    staff_calendar,
)
from procedures.reservations.services import (
    BookingRefused,
    BookingRequest,
    SlotFull,
    booking_cancel,
    booking_create,
    booking_mark_attendance,
    slot_block,
)

MANAGE_ROLES = frozenset({"admin", "reviewer"})


# --- access --------------------------------------------------------------------------------


def _manager(request: HttpRequest):
    staff = staff_context(request)
    if not staff.has_any(MANAGE_ROLES):
        raise PermissionDenied
    return staff


def resource_for_staff(request: HttpRequest, pk: int) -> Resource:
    """The resource if the staff member manages it; 404 otherwise (403 for other roles)."""
    resource = resources_for_staff(staff=_manager(request)).filter(pk=pk).first()
    if resource is None:
        raise Http404
    return resource


def booking_for_staff(request: HttpRequest, pk: int) -> Booking:
    staff = _manager(request)
    booking = bookings_for_staff(staff=staff).select_related("slot", "resource").filter(pk=pk)
    found = booking.first()
    if found is None:
        raise Http404
    return found


# --- helpers -------------------------------------------------------------------------------


def _today() -> date:
    return timezone.now().astimezone(TOKYO).date()


def _parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else _today()
    except ValueError:
        return _today()


def calendar_url(resource: Resource, day: date, mode: str = "day") -> str:
    url = reverse("admin:reservations_calendar", args=[resource.pk])
    return f"{url}?{urlencode({'date': day.isoformat(), 'view': mode})}"


def _back(request: HttpRequest, resource: Resource, when: datetime) -> HttpResponse:
    mode = "week" if request.POST.get("view") == "week" else "day"
    return redirect(calendar_url(resource, when.astimezone(TOKYO).date(), mode))


def _render(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    base = {**console.each_context(request), "opts": Resource._meta}
    return TemplateResponse(request, template, {**base, **context})


def _week_grid(days: list[CalendarDay]) -> list[tuple[str, list]]:
    """Rows of the week view: one per start time, a cell (slot or None) per day."""
    times = sorted({s.starts_at.astimezone(TOKYO).strftime("%H:%M") for d in days for s in d.slots})
    by_time = [
        {s.starts_at.astimezone(TOKYO).strftime("%H:%M"): s for s in day.slots} for day in days
    ]
    return [(label, [cells.get(label) for cells in by_time]) for label in times]


# --- pages ---------------------------------------------------------------------------------


def calendar_view(request: HttpRequest, pk: int) -> TemplateResponse:
    """Day or week view: every slot with its bookings and remaining places."""
    resource = resource_for_staff(request, pk)
    mode = "week" if request.GET.get("view") == "week" else "day"
    day = _parse_day(request.GET.get("date"))
    first = day - timedelta(days=day.weekday()) if mode == "week" else day
    length = 7 if mode == "week" else 1
    days = staff_calendar(resource=resource, first=first, days=length, now=timezone.now())
    # The page shows callers' names and phone numbers: viewing it is audited (rule 6).
    audit_log(
        request.user,
        "procedures.resource.calendar_viewed",
        resource,
        {"from": first.isoformat(), "days": length},
        request=request,
    )
    step = timedelta(days=length)
    return _render(
        request,
        "reservations/calendar.html",
        {
            "title": _("Calendar: %(name)s") % {"name": resource.name},
            "resource": resource,
            "mode": mode,
            "days": days,
            "grid": _week_grid(days) if mode == "week" else [],
            "first": first,
            "last": first + step - timedelta(days=1),
            "prev_url": calendar_url(resource, first - step, mode),
            "next_url": calendar_url(resource, first + step, mode),
            "today_url": calendar_url(resource, _today(), mode),
            "day_url": calendar_url(resource, day, "day"),
            "week_url": calendar_url(resource, day, "week"),
            "export_form": ExportForm(
                initial={"date_from": first, "date_to": first + step - timedelta(days=1)}
            ),
            "now": timezone.now(),
        },
    )


def book_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Book for a phone caller through the same capacity path as residents in LINE."""
    resource = resource_for_staff(request, pk)
    data = request.POST if request.method == "POST" else None
    form = PhoneBookingForm(data, initial=request.GET, max_party=resource.max_party_size)
    alternatives = []
    if data is not None and form.is_valid():
        booking_request = BookingRequest(
            resource=resource,
            starts_at=form.cleaned_data["start"],
            party_size=form.cleaned_data["party_size"],
            source=BookingSource.PHONE,
            contact_name=form.cleaned_data["contact_name"],
            contact_phone=form.cleaned_data["contact_phone"],
        )
        try:
            booking = booking_create(request=booking_request, actor=request.user)
        except SlotFull as exc:
            form.add_error(None, str(exc))
            alternatives = exc.alternatives
        except BookingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Booked for %(name)s.") % {"name": booking.contact_name})
            return _back(request, resource, booking_request.starts_at)
    start = _form_start(form)
    return _render(
        request,
        "reservations/book.html",
        {
            "title": _("Book for a caller: %(name)s") % {"name": resource.name},
            "resource": resource,
            "form": form,
            "start": start,
            "alternatives": alternatives,
            "back_url": calendar_url(resource, start.date() if start else _today()),
        },
    )


def _form_start(form: PhoneBookingForm) -> datetime | None:
    """The slot the form is about, from its data or initial value (None if invalid)."""
    raw = form.data.get("start") if form.is_bound else form.initial.get("start")
    try:
        return form.fields["start"].clean(raw)
    except ValidationError:
        return None


def cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a booking; the resident is told in LINE (with the optional message)."""
    booking = booking_for_staff(request, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        booking_cancel(booking=booking, actor=request.user, message=form.cleaned_data["message"])
        messages.success(request, _("The booking was cancelled."))
        return _back(request, booking.resource, booking.slot.starts_at)
    return _render(
        request,
        "reservations/cancel.html",
        {
            "title": _("Cancel a booking"),
            "booking": booking,
            "form": form,
            "back_url": calendar_url(booking.resource, booking.slot.starts_at.astimezone(TOKYO)),
        },
    )


@require_POST
def attendance_view(request: HttpRequest, pk: int) -> HttpResponse:
    booking = booking_for_staff(request, pk)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    try:
        booking_mark_attendance(
            booking=booking, actor=request.user, attended=form.cleaned_data["attended"]
        )
    except BookingRefused as exc:
        messages.error(request, str(exc))
    return _back(request, booking.resource, booking.slot.starts_at)


@require_POST
def block_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Block (or unblock) one slot for new bookings; existing bookings stay."""
    resource = resource_for_staff(request, pk)
    form = BlockForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    start, blocked = form.cleaned_data["start"], form.cleaned_data["blocked"]
    try:
        slot_block(resource=resource, starts_at=start, actor=request.user, blocked=blocked)
    except BookingRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Slot blocked.") if blocked else _("Slot reopened."))
    return _back(request, resource, start)


def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Bookings of a period as CSV (UTF-8 with BOM, for Excel). Audited: personal data."""
    resource = resource_for_staff(request, pk)
    form = ExportForm(request.GET)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(calendar_url(resource, _today()))
    first, last = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    bookings = list(
        bookings_in_period(resource=resource, first=first, last=last).select_related("submission")
    )
    audit_log(
        request.user,
        "procedures.booking.exported",
        resource,
        {"from": first.isoformat(), "to": last.isoformat(), "count": len(bookings)},
        request=request,
    )
    response = HttpResponse(bookings_csv(bookings), content_type="text/csv; charset=utf-8")
    name = f"bookings-{resource.key}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def bookings_csv(bookings: list[Booking]) -> str:
    """The CSV text, starting with a BOM so that Excel reads the Japanese as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("booking number"),
            _("date"),
            _("start"),
            _("end"),
            _("resource"),
            _("status"),
            _("source"),
            _("contact name"),
            _("phone"),
            _("party size"),
            _("places"),
            _("reference"),
            _("booked at"),
            _("cancelled at"),
        ]
    )
    for booking in bookings:
        writer.writerow(_csv_row(booking))
    return out.getvalue()


def _local(value: datetime | None, pattern: str) -> str:
    return value.astimezone(TOKYO).strftime(pattern) if value else ""


def _csv_row(booking: Booking) -> list:
    slot = booking.slot
    return [
        booking.pk,
        _local(slot.starts_at, "%Y-%m-%d"),
        _local(slot.starts_at, "%H:%M"),
        _local(slot.ends_at, "%H:%M"),
        booking.resource.name,
        booking.get_status_display(),
        booking.get_source_display(),
        booking.contact_name,
        booking.contact_phone,
        booking.party_size,
        booking.places,
        booking.submission.reference if booking.submission else "",
        _local(booking.created_at, "%Y-%m-%d %H:%M"),
        _local(booking.cancelled_at, "%Y-%m-%d %H:%M"),
    ]
