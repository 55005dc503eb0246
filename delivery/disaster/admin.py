"""Disaster mode in the console: the disaster page (state, switch, alerts, safety checks),
the switch's confirmation pages, the phone-friendly shelter status page, safety check
results by area, and the peacetime preparation (settings, alert templates, shelters).

Roles: municipality admins switch, send alerts and see the contact details of residents
who need help; the disaster desk (admins and broadcasters) sends safety checks and reads
their counts; shelter staff (also reviewers) update shelter statuses. Another
municipality's objects are 404, as missing ones.
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from delivery.disaster import selectors
from delivery.disaster.forms import AlertForm, DisasterSettingsForm, SafetyCheckForm
from delivery.disaster.models import (
    AlertTemplate,
    DisasterAlert,
    DisasterSettings,
    DisasterSwitch,
    SafetyCheck,
    Shelter,
    ShelterStatus,
    SwitchStatus,
)
from delivery.disaster.services import (
    disaster_alert_send,
    disaster_settings_set,
    disaster_switch_cancel,
    disaster_switch_confirm,
    disaster_switch_request,
    safety_check_send,
    shelter_status_set,
    shelters_use_all,
)
from delivery.spots.models import Spot, SpotKind
from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console
from govtech.services import ServiceError, audit_log

ADMIN_ROLES = frozenset({"admin"})
DESK_ROLES = frozenset({"admin", "broadcaster"})
SHELTER_ROLES = frozenset({"admin", "broadcaster", "reviewer"})
PAGE_ITEMS = 20


@admin.register(AlertTemplate, site=console)
class AlertTemplateAdmin(TenantModelAdmin):
    view_roles = DESK_ROLES
    edit_roles = ADMIN_ROLES
    list_display = ("title",)
    fields = ("municipality", "title", "text")


@admin.register(Shelter, site=console)
class ShelterAdmin(TenantModelAdmin):
    """Which evacuation spots are opened in disaster mode; the status is set on the
    shelter status page (a service), not here."""

    view_roles = SHELTER_ROLES
    edit_roles = ADMIN_ROLES
    fields = ("municipality", "spot")
    list_display = ("spot", "status", "status_changed_at", "status_changed_by")
    list_filter = ("status",)
    list_select_related = ("spot", "status_changed_by")
    search_fields = ("spot__name", "spot__address")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "spot":
            kinds = (SpotKind.SHELTER, SpotKind.EVACUATION_SITE)
            kwargs["queryset"] = Spot.objects.filter(kind__in=kinds)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(DisasterSettings, site=console)
class DisasterAdmin(TenantModelAdmin):
    """The disaster page (its list page) and everything reached from it."""

    view_roles = SHELTER_ROLES
    edit_roles = ADMIN_ROLES

    # The settings row changes only through its services (the settings page, the switch):
    # Django's change form would let anyone with the page switch the mode unaudited.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        name = "delivery_disaster_"
        return [
            path("settings/", view(self.settings_view), name=name + "settings"),
            path("switch/<str:direction>/", view(self.switch_view), name=name + "switch"),
            path("requests/<int:pk>/", view(self.request_view), name=name + "request"),
            path("alert/", view(self.alert_view), name=name + "alert"),
            path("shelters/", view(self.shelters_view), name=name + "shelters"),
            path("shelters/<int:pk>/", view(self.shelter_status_view), name=name + "shelter"),
            path("checks/new/", view(self.check_new_view), name=name + "check_new"),
            path("checks/<int:pk>/", view(self.check_view), name=name + "check"),
            path("checks/<int:pk>/help/", view(self.check_help_view), name=name + "check_help"),
            *super().get_urls(),
        ]

    # --- helpers ------------------------------------------------------------------

    def _may(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        staff = staff_context(request)
        return staff.municipality is not None and bool(staff.roles & roles)

    def _municipality(self, request: HttpRequest, roles: frozenset[str]):
        """The staff member's municipality, or 404 without one of ``roles`` there."""
        if not self._may(request, roles):
            raise Http404
        return staff_context(request).municipality

    def _render(self, request, template: str, title: str, **context) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "disaster_title": _("Disaster mode"),
            **context,
        }
        return render(request, template, context)

    def _back(self) -> HttpResponse:
        return redirect("admin:delivery_disastersettings_changelist")

    # --- the disaster page ----------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        municipality = self._municipality(request, SHELTER_ROLES)
        settings = selectors.disaster_settings(municipality=municipality)
        statuses = dict.fromkeys(ShelterStatus.values, 0)
        for status in Shelter.objects.values_list("status", flat=True):
            statuses[status] += 1
        return self._render(
            request,
            "disaster/page.html",
            _("Disaster mode"),
            settings=settings,
            pending=selectors.pending_switch(municipality=municipality),
            shelter_counts=[(ShelterStatus(s).label, n) for s, n in statuses.items()],
            alerts=DisasterAlert.objects.select_related("sent_by")[:PAGE_ITEMS],
            checks=SafetyCheck.objects.select_related("created_by")[:PAGE_ITEMS],
            is_admin=self._may(request, ADMIN_ROLES),
            is_desk=self._may(request, DESK_ROLES),
        )

    def settings_view(self, request: HttpRequest) -> HttpResponse:
        municipality = self._municipality(request, ADMIN_ROLES)
        current = selectors.disaster_settings(municipality=municipality)
        initial = {
            "area_field": current.area_field,
            "second_person_required": current.second_person_required,
        }
        form = DisasterSettingsForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            disaster_settings_set(
                actor=request.user,
                municipality=municipality,
                area_field=form.cleaned_data["area_field"],
                second_person_required=form.cleaned_data["second_person_required"],
            )
            messages.success(request, _("The disaster mode settings were saved."))
            return self._back()
        return self._render(
            request, "disaster/settings.html", _("Disaster mode settings"), form=form
        )

    # --- switching ------------------------------------------------------------------

    def switch_view(self, request: HttpRequest, direction: str) -> HttpResponse:
        municipality = self._municipality(request, ADMIN_ROLES)
        if direction not in ("on", "off"):
            raise Http404
        turn_on = direction == "on"
        settings = selectors.disaster_settings(municipality=municipality)
        form = AlertForm(
            request.POST or None,
            area_choices=selectors.area_options(settings=settings),
            alert_required=False,
        )
        step = request.POST.get("step") if request.method == "POST" else None
        if step and (not turn_on or form.is_valid()):
            if step == "confirm":
                return self._switch(request, municipality, turn_on, form)
            return self._switch_review(request, settings, turn_on, form)
        title = _("Switch disaster mode on") if turn_on else _("Switch disaster mode off")
        template = "disaster/switch_form.html" if turn_on else "disaster/switch_confirm.html"
        return self._render(
            request,
            template,
            title,
            form=form,
            turn_on=turn_on,
            settings=settings,
            request_key=uuid.uuid4(),
        )

    def _switch_review(self, request, settings, turn_on, form) -> HttpResponse:
        areas = form.chosen_areas()
        rules = selectors.area_rules(area=settings.area_field, values=areas)
        labels = dict(selectors.area_options(settings=settings))
        return self._render(
            request,
            "disaster/switch_confirm.html",
            _("Switch disaster mode on"),
            form=form,
            turn_on=turn_on,
            settings=settings,
            alert=form.cleaned_data if (form.cleaned_data.get("text") or "").strip() else None,
            areas_text=_areas_text([labels.get(a, a) for a in areas]),
            recipients=selectors.audience_count(rules=rules),
            request_key=uuid.uuid4(),
        )

    def _switch(self, request, municipality, turn_on, form) -> HttpResponse:
        data = form.cleaned_data if turn_on else {}
        try:
            switch = disaster_switch_request(
                actor=request.user,
                municipality=municipality,
                turn_on=turn_on,
                request_key=_request_key(request),
                alert_title=data.get("title", ""),
                alert_text=data.get("text", ""),
                area_values=form.chosen_areas() if turn_on else [],
            )
        except ServiceError as error:
            messages.error(request, str(error))
            return self._back()
        if switch.status == SwitchStatus.PENDING:
            messages.warning(request, _("Another municipality admin must confirm the switch."))
        elif turn_on:
            messages.success(request, _("Disaster mode is on."))
        else:
            messages.success(request, _("Disaster mode is off."))
        return self._back()

    def request_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST ``confirm`` (another admin) or ``cancel`` on a pending switch."""
        self._municipality(request, ADMIN_ROLES)
        switch = DisasterSwitch.objects.filter(pk=pk).first()
        if switch is None or request.method != "POST":
            raise Http404
        try:
            if "cancel" in request.POST:
                disaster_switch_cancel(actor=request.user, switch=switch)
                messages.success(request, _("The request was withdrawn."))
            else:
                disaster_switch_confirm(actor=request.user, switch=switch)
                messages.success(request, _("Confirmed: the switch took effect."))
        except ServiceError as error:
            messages.error(request, str(error))
        return self._back()

    # --- alerts -----------------------------------------------------------------------

    def alert_view(self, request: HttpRequest) -> HttpResponse:
        municipality = self._municipality(request, ADMIN_ROLES)
        settings = selectors.disaster_settings(municipality=municipality)
        if not settings.is_active:
            messages.error(request, _("Disaster mode is off."))
            return self._back()
        form = AlertForm(
            request.POST or None,
            area_choices=selectors.area_options(settings=settings),
            alert_required=True,
        )
        step = request.POST.get("step") if request.method == "POST" else None
        if step and form.is_valid():
            if step == "confirm":
                return self._alert(request, municipality, form)
            return self._review(
                request, settings, form, "disaster/alert_confirm.html", _("Send an alert")
            )
        return self._render(request, "disaster/alert_form.html", _("Send an alert"), form=form)

    def _review(self, request, settings, form, template: str, title: str) -> HttpResponse:
        areas = form.chosen_areas()
        labels = dict(selectors.area_options(settings=settings))
        rules = selectors.area_rules(area=settings.area_field, values=areas)
        return self._render(
            request,
            template,
            title,
            form=form,
            data=form.cleaned_data,
            areas_text=_areas_text([labels.get(a, a) for a in areas]),
            recipients=selectors.audience_count(rules=rules),
            request_key=uuid.uuid4(),
        )

    def _alert(self, request, municipality, form) -> HttpResponse:
        try:
            disaster_alert_send(
                actor=request.user,
                municipality=municipality,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                area_values=form.chosen_areas(),
                request_key=_request_key(request),
            )
        except ServiceError as error:
            messages.error(request, str(error))
            return self._back()
        messages.success(request, _("The alert is being sent."))
        return self._back()

    # --- shelters -----------------------------------------------------------------------

    def shelters_view(self, request: HttpRequest) -> HttpResponse:
        municipality = self._municipality(request, SHELTER_ROLES)
        if request.method == "POST" and "use_all" in request.POST:
            self._municipality(request, ADMIN_ROLES)
            added = shelters_use_all(actor=request.user, municipality=municipality)
            messages.success(request, _("%(count)d shelters added.") % {"count": added})
            return redirect("admin:delivery_disaster_shelters")
        shelters = Shelter.objects.select_related("spot", "status_changed_by")
        query = request.GET.get("q", "").strip()
        if query:
            shelters = shelters.filter(spot__name__icontains=query)
        return self._render(
            request,
            "disaster/shelters.html",
            _("Shelter status"),
            shelters=shelters,
            statuses=ShelterStatus.choices,
            query=query,
            is_admin=self._may(request, ADMIN_ROLES),
        )

    def shelter_status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._municipality(request, SHELTER_ROLES)
        shelter = Shelter.objects.select_related("spot").filter(pk=pk).first()
        if shelter is None or request.method != "POST":
            raise Http404
        try:
            shelter_status_set(
                actor=request.user, shelter=shelter, status=request.POST.get("status", "")
            )
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(shelter)s: %(status)s")
                % {"shelter": shelter.spot.name, "status": shelter.get_status_display()},
            )
        url = reverse("admin:delivery_disaster_shelters")
        return redirect(f"{url}#shelter-{shelter.pk}")

    # --- safety checks ----------------------------------------------------------------

    def check_new_view(self, request: HttpRequest) -> HttpResponse:
        municipality = self._municipality(request, DESK_ROLES)
        settings = selectors.disaster_settings(municipality=municipality)
        form = SafetyCheckForm(
            request.POST or None, area_choices=selectors.area_options(settings=settings)
        )
        step = request.POST.get("step") if request.method == "POST" else None
        if step and form.is_valid():
            if step != "confirm":
                return self._review(
                    request, settings, form, "disaster/check_confirm.html", _("Send a safety check")
                )
            check = safety_check_send(
                actor=request.user,
                municipality=municipality,
                text=form.cleaned_data["text"],
                area_values=form.chosen_areas(),
                request_key=_request_key(request),
            )
            messages.success(request, _("The safety check is being sent."))
            return redirect("admin:delivery_disaster_check", check.pk)
        return self._render(
            request, "disaster/check_form.html", _("Send a safety check"), form=form
        )

    def check_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        municipality = self._municipality(request, DESK_ROLES)
        check = SafetyCheck.objects.filter(pk=pk).first()
        if check is None:
            raise Http404
        settings = selectors.disaster_settings(municipality=municipality)
        labels = dict(selectors.area_options(settings=settings))
        return self._render(
            request,
            "disaster/check.html",
            _("Safety check results"),
            check=check,
            results=selectors.safety_results(check=check, labels=labels),
            may_see_contacts=self._may(request, ADMIN_ROLES),
        )

    def check_help_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Residents who need help, with their contact details: admins only, audited."""
        municipality = self._municipality(request, ADMIN_ROLES)
        check = SafetyCheck.objects.filter(pk=pk).first()
        if check is None:
            raise Http404
        settings = selectors.disaster_settings(municipality=municipality)
        labels = dict(selectors.area_options(settings=settings))
        answers = list(selectors.residents_needing_help(check=check))
        audit_log(
            request.user,
            "delivery.safetycheck.help_list_viewed",
            check,
            {"residents": [answer.resident_id for answer in answers]},
            request=request,
        )
        return self._render(
            request,
            "disaster/check_help.html",
            _("Residents who need help"),
            check=check,
            people=[_person(answer, check, labels) for answer in answers],
        )


def _areas_text(labels: list[str]) -> str:
    return "・".join(labels) if labels else _("everyone")


def _request_key(request: HttpRequest) -> uuid.UUID:
    """The confirmation page's key; a form without one (never the console's) gets a new
    one, so it is at worst not deduplicated."""
    try:
        return uuid.UUID(request.POST.get("request_key", ""))
    except ValueError:
        return uuid.uuid4()


def _person(answer, check: SafetyCheck, labels: dict[str, str]) -> dict:
    resident = answer.resident
    area = str(resident.attributes.get(check.area_key, "")) if check.area_key else ""
    friends = list(resident.line_friends.all())
    details = {
        key: value
        for key, value in resident.attributes.items()
        if key != check.area_key and value not in ("", None, [])
    }
    return {
        "name": resident.display_name
        or next((f.display_name for f in friends), "")
        or _("(no name)"),
        "area": labels.get(area, area),
        "answered_at": answer.answered_at,
        "line_names": [f.display_name for f in friends if f.display_name],
        "details": details,
    }
