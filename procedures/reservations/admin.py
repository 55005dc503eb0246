"""Console pages of reservations: resources (with opening hours, closures, reminder
rules), the bookings list, and the staff pages of `views` (calendar, phone booking,
cancel, attendance, blocking, CSV export).

Admins and reviewers of a resource's department manage; designers and broadcasters see
nothing of it. Bookings are never deleted or edited here: staff cancel them.
"""

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from govtech.access import staff_context
from govtech.console import PersonalDataAdminMixin, RoleAdminMixin, TenantModelAdmin, console
from procedures.reservations import views
from procedures.reservations.models import (
    Booking,
    Closure,
    OpeningRule,
    ReminderRule,
    Resource,
)
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import (
    bookings_for_staff,
    live_procedures_booking,
    resources_for_staff,
)
from procedures.reservations.views import MANAGE_ROLES


class _ResourcePartInline(RoleAdminMixin, admin.TabularInline):
    """Rows of a resource; their municipality is the resource's (set on save)."""

    extra = 0
    exclude = ["municipality"]
    view_roles = MANAGE_ROLES
    edit_roles = frozenset({"admin"})


class OpeningRuleInline(_ResourcePartInline):
    model = OpeningRule


class ClosureInline(_ResourcePartInline):
    model = Closure


class ReminderRuleInline(_ResourcePartInline):
    model = ReminderRule


@admin.register(Resource, site=console)
class ResourceAdmin(TenantModelAdmin):
    list_display = ["name", "key", "kind", "department", "capacity", "is_active", "pages"]
    list_filter = ["kind", "department", "is_active"]
    search_fields = ["key", "name"]
    list_select_related = ["department"]
    inlines = [OpeningRuleInline, ClosureInline, ReminderRuleInline]
    view_roles = MANAGE_ROLES
    edit_roles = frozenset({"admin"})

    def get_queryset(self, request):
        # Reviewers see the resources of their departments only.
        return resources_for_staff(staff=staff_context(request))

    def get_readonly_fields(self, request, obj=None):
        return ["key", "booked_by"] if obj else []

    @admin.display(description=_("booked in live procedures"))
    def booked_by(self, obj: Resource) -> str:
        return "、".join(live_procedures_booking(resource=obj)) or "—"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        booking = live_procedures_booking(resource=obj) if not obj.is_active else []
        if booking:
            messages.warning(
                request,
                _(
                    "%(name)s is inactive, but these live procedures book it: %(titles)s. "
                    "Residents are told reservations are not available until it is active "
                    "again or the procedures book another facility."
                )
                % {"name": obj.name, "titles": "、".join(booking)},
            )

    def has_delete_permission(self, request, obj=None):
        return False  # bookings keep their resource; deactivate it instead

    def save_formset(self, request, form, formset, change):
        for row in formset.save(commit=False):
            row.municipality_id = form.instance.municipality_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()

    @admin.display(description=_("pages"))
    def pages(self, obj: Resource) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:reservations_calendar", args=[obj.pk]),
            _("Calendar"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/calendar/", view(views.calendar_view), name="reservations_calendar"),
            path("<int:pk>/book/", view(views.book_view), name="reservations_book"),
            path("<int:pk>/block/", view(views.block_view), name="reservations_block"),
            path("<int:pk>/export/", view(views.export_view), name="reservations_export"),
            *super().get_urls(),
        ]


@admin.register(Booking, site=console)
class BookingAdmin(PersonalDataAdminMixin, TenantModelAdmin):
    """Read-only list of bookings; the changes staff make go through the calendar pages."""

    viewed_action = "procedures.booking.viewed"

    list_display = ["slot_start", "resource", "who", "party_size", "status", "source", "links"]
    list_filter = ["resource", ("slot__starts_at", admin.DateFieldListFilter), "status", "source"]
    search_fields = ["contact_name", "contact_phone"]
    list_select_related = ["slot", "resource"]
    date_hierarchy = "slot__starts_at"
    fields = [
        "resource",
        "slot",
        "status",
        "source",
        "contact_name",
        "contact_phone",
        "party_size",
        "places",
        "submission",
        "created_at",
        "cancelled_at",
    ]
    readonly_fields = fields
    view_roles = MANAGE_ROLES
    edit_roles = frozenset()

    def get_queryset(self, request):
        return bookings_for_staff(staff=staff_context(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: a cancellation releases the place and tells the resident

    @admin.display(description=_("starts"), ordering="slot__starts_at")
    def slot_start(self, obj: Booking):
        return obj.slot.starts_at

    @admin.display(description=_("contact name"))
    def who(self, obj: Booking) -> str:
        return obj.contact_name or obj.get_source_display()

    @admin.display(description=_("calendar"))
    def links(self, obj: Booking) -> str:
        day = obj.slot.starts_at
        return format_html(
            '<a href="{}">{}</a>',
            views.calendar_url(obj.resource, day.astimezone(TOKYO).date()),
            _("Calendar"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/cancel/", view(views.cancel_view), name="reservations_booking_cancel"),
            path(
                "<int:pk>/attendance/",
                view(views.attendance_view),
                name="reservations_booking_attendance",
            ),
            *super().get_urls(),
        ]
