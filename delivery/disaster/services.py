"""Writes of disaster mode: the peacetime settings, the switch (with an optional second
admin), the alert sent at once, shelter statuses, and safety checks with their answers.

Every write is audited. The switch and the alerts are idempotent by a request key the
confirmation page carries, so a double tap or a resubmitted form does nothing twice.
``disaster_mode_changed`` is sent after the switch commits (rich menus follow it).
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from delivery.broadcasts.models import AttributeField
from delivery.broadcasts.services import broadcast_send_now
from delivery.disaster import selectors
from delivery.disaster.models import (
    DisasterAlert,
    DisasterSettings,
    DisasterSwitch,
    SafetyAnswer,
    SafetyAnswerChoice,
    SafetyCheck,
    Shelter,
    ShelterStatus,
    SwitchStatus,
)
from delivery.disaster.signals import disaster_mode_changed
from delivery.spots.models import Spot, SpotKind
from govtech.access import staff_context_for
from govtech.models import Municipality, User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures.engine.steps import postback
from procedures.residents.models import Resident

RESIDENT_LANGUAGE = "ja"  # one multicast for everyone: the municipality's language


def _require_admin(actor: User, municipality: Municipality) -> None:
    staff = staff_context_for(actor, municipality_id=municipality.pk)
    if not (staff.is_operator or (staff.municipality == municipality and staff.is_admin)):
        raise ServiceError(_("Only a municipality admin can do this."))


# --- peacetime ------------------------------------------------------------------------


def disaster_settings_set(
    *,
    actor: User,
    municipality: Municipality,
    area_field: AttributeField | None,
    second_person_required: bool,
) -> DisasterSettings:
    """Set the area attribute and whether a second admin must confirm. Admins only
    (raises ServiceError); audited."""
    _require_admin(actor, municipality)
    with tenant_scope(municipality):
        found, _created = DisasterSettings.objects.get_or_create(municipality=municipality)
        found.area_field = area_field
        found.second_person_required = second_person_required
        found.save(update_fields=["area_field", "second_person_required"])
    changes = {"area_field": area_field.key if area_field else "", "second": second_person_required}
    audit_log(actor, "delivery.disastersettings.changed", found, changes)
    return found


def shelter_status_set(*, actor: User | None, shelter: Shelter, status: str) -> Shelter:
    """Set a shelter's status (開設 / 満員 / 閉鎖), with when and by whom. Setting the
    status it already has changes nothing (a double tap). Audited."""
    if status not in ShelterStatus.values:
        raise ServiceError(_("Unknown shelter status."))
    if shelter.status == status:
        return shelter
    before = shelter.status
    shelter.status, shelter.status_changed_at, shelter.status_changed_by = (
        status,
        timezone.now(),
        actor,
    )
    shelter.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    audit_log(actor, "delivery.shelter.status_changed", shelter, {"from": before, "to": status})
    return shelter


def shelters_use_all(*, actor: User | None, municipality: Municipality) -> int:
    """Use every active evacuation spot (指定避難所 and 指定緊急避難場所) as a shelter in
    disaster mode; those already used stay as they are (closed until staff open them).
    Returns how many were added. The page checks the role; the demo seed has no actor."""
    kinds = (SpotKind.SHELTER, SpotKind.EVACUATION_SITE)
    with tenant_scope(municipality):
        spots = Spot.objects.filter(kind__in=kinds, is_active=True, shelter__isnull=True)
        added = Shelter.objects.bulk_create(
            [Shelter(municipality=municipality, spot=spot) for spot in spots]
        )
    audit_log(actor, "delivery.shelter.added", municipality, {"count": len(added)})
    return len(added)


# --- the switch -----------------------------------------------------------------------


def disaster_switch_request(
    *,
    actor: User,
    municipality: Municipality,
    turn_on: bool,
    request_key: uuid.UUID,
    alert_title: str = "",
    alert_text: str = "",
    area_values: list[str] | None = None,
) -> DisasterSwitch:
    """Switch disaster mode on (with an alert when ``alert_text`` is given) or off.

    Takes effect at once, or waits for another admin when the municipality requires a
    second person (status pending; any earlier pending request is cancelled). The same
    ``request_key`` again returns the first request and does nothing. Raises
    ServiceError for anyone but a municipality admin and when the mode is already so.
    """
    _require_admin(actor, municipality)
    with tenant_scope(municipality):
        earlier = DisasterSwitch.objects.filter(request_key=request_key).first()
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                return _request(
                    actor,
                    municipality,
                    turn_on,
                    request_key,
                    alert_title,
                    alert_text,
                    area_values or [],
                )
        except IntegrityError:  # the same form, submitted twice at once
            return DisasterSwitch.objects.get(request_key=request_key)


def _request(actor, municipality, turn_on, request_key, title, text, areas) -> DisasterSwitch:
    settings = selectors.disaster_settings(municipality=municipality)
    if settings.is_active == turn_on:
        raise ServiceError(
            _("Disaster mode is already on.") if turn_on else _("Disaster mode is already off.")
        )
    DisasterSwitch.objects.filter(status=SwitchStatus.PENDING).update(status=SwitchStatus.CANCELLED)
    switch = DisasterSwitch.objects.create(
        municipality=municipality,
        turn_on=turn_on,
        alert_title=title if turn_on else "",
        alert_text=text if turn_on else "",
        area_values=areas if turn_on else [],
        request_key=request_key,
        requested_by=actor,
    )
    audit_log(actor, "delivery.disaster.switch_requested", switch, {"on": turn_on})
    if not settings.second_person_required:
        _apply(switch, actor)
    return switch


def disaster_switch_confirm(*, actor: User, switch: DisasterSwitch) -> DisasterSwitch:
    """Another municipality admin confirms a pending switch: it takes effect now.

    A second confirmation (a double tap) finds it done and changes nothing. Raises
    ServiceError for the requester themself, anyone but an admin, a cancelled request,
    or when the mode is already so."""
    municipality = switch.municipality
    _require_admin(actor, municipality)
    if actor.pk == switch.requested_by_id:
        raise ServiceError(_("Another admin must confirm the switch you asked for."))
    with tenant_scope(municipality), transaction.atomic():
        locked = DisasterSwitch.objects.select_for_update().get(pk=switch.pk)
        if locked.status == SwitchStatus.DONE:
            return locked
        if locked.status != SwitchStatus.PENDING:
            raise ServiceError(_("This request was cancelled."))
        _apply(locked, actor)
    return locked


def disaster_switch_cancel(*, actor: User, switch: DisasterSwitch) -> DisasterSwitch:
    """Withdraw a pending switch (the requester or another admin). Audited."""
    _require_admin(actor, switch.municipality)
    with tenant_scope(switch.municipality):
        DisasterSwitch.objects.filter(pk=switch.pk, status=SwitchStatus.PENDING).update(
            status=SwitchStatus.CANCELLED
        )
        switch.refresh_from_db()
    audit_log(actor, "delivery.disaster.switch_cancelled", switch, {})
    return switch


def _apply(switch: DisasterSwitch, actor: User) -> None:
    """Change the mode (its settings row locked), send the switch's alert, and announce
    the change after commit. In the caller's transaction."""
    municipality = switch.municipality
    DisasterSettings.objects.get_or_create(municipality=municipality)
    settings = DisasterSettings.objects.select_for_update().get(municipality=municipality)
    if settings.is_active == switch.turn_on:
        raise ServiceError(
            _("Disaster mode is already on.")
            if switch.turn_on
            else _("Disaster mode is already off.")
        )
    now = timezone.now()
    settings.is_active, settings.changed_at, settings.changed_by = switch.turn_on, now, actor
    settings.save(update_fields=["is_active", "changed_at", "changed_by"])
    switch.status, switch.confirmed_by, switch.confirmed_at = SwitchStatus.DONE, actor, now
    switch.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    action = "delivery.disaster.switched_on" if switch.turn_on else "delivery.disaster.switched_off"
    audit_log(
        actor, action, settings, {"switch": switch.pk, "requested_by": switch.requested_by_id}
    )
    if switch.turn_on and switch.alert_text.strip():
        _alert(
            actor,
            municipality,
            switch.alert_title,
            switch.alert_text,
            switch.area_values,
            switch.request_key,
            switch,
        )
    transaction.on_commit(functools.partial(_announce, municipality, switch.turn_on, actor))


def _announce(municipality: Municipality, active: bool, actor: User) -> None:
    """After commit: the banner's cached state goes, and rich menus (and whoever else
    listens) follow the switch."""
    cache.delete(selectors.mode_cache_key(municipality.pk))
    disaster_mode_changed.send(
        sender=DisasterSettings, municipality=municipality, active=active, actor=actor
    )


# --- alerts ---------------------------------------------------------------------------


def disaster_alert_send(
    *,
    actor: User,
    municipality: Municipality,
    title: str,
    text: str,
    area_values: list[str],
    request_key: uuid.UUID,
) -> DisasterAlert:
    """Send an alert at once, without approval, to everyone or the chosen areas, while
    disaster mode is on. Exactly once per ``request_key`` (the same key returns the first
    alert). Admins only; raises ServiceError otherwise or when the mode is off."""
    _require_admin(actor, municipality)
    if not text.strip():
        raise ServiceError(_("Write the alert's text."))
    with tenant_scope(municipality):
        earlier = DisasterAlert.objects.filter(request_key=request_key).first()
        if earlier is not None:
            return earlier
        if not selectors.disaster_mode_is_on(municipality=municipality):
            raise ServiceError(_("Disaster mode is off."))
        try:
            with transaction.atomic():
                return _alert(actor, municipality, title, text, area_values, request_key)
        except IntegrityError:
            return DisasterAlert.objects.get(request_key=request_key)


def _alert(actor, municipality, title, text, areas, request_key, switch=None) -> DisasterAlert:
    alert = DisasterAlert.objects.create(
        municipality=municipality,
        switch=switch,
        title=title[:100],
        text=text,
        area_values=areas,
        request_key=request_key,
        sent_by=actor,
    )
    heading = f"【{title}】\n" if title.strip() else ""
    items = [{"type": "text", "text": f"{heading}{text}"[:5000]}]
    alert.broadcasts.set(
        _broadcasts(
            actor, municipality, title or _("Alert"), items, areas, "delivery.disaster.alert"
        )
    )
    audit_log(actor, "delivery.disaster.alert_sent", alert, {"areas": areas})
    return alert


def _broadcasts(actor, municipality, title, items, areas, reason) -> list:
    settings = selectors.disaster_settings(municipality=municipality)
    rules = selectors.area_rules(area=settings.area_field, values=areas)
    return [
        broadcast_send_now(
            actor=actor, channel=channel, title=title, items=items, rules=rules, reason=reason
        )
        for channel in selectors.sending_channels()
    ]


# --- safety checks (安否確認) -----------------------------------------------------------


def safety_postback(check: SafetyCheck, answer: str) -> str:
    return postback("safety", str(check.pk), answer)


def safety_check_send(
    *,
    actor: User,
    municipality: Municipality,
    text: str,
    area_values: list[str],
    request_key: uuid.UUID,
) -> SafetyCheck:
    """Send a one-tap safety check (無事 / 支援が必要 quick replies) at once, without
    approval, to everyone or the chosen areas. Exactly once per ``request_key``. Staff
    with the disaster desk's roles (checked by the caller's page). Audited."""
    if not text.strip():
        raise ServiceError(_("Write the question."))
    with tenant_scope(municipality):
        earlier = SafetyCheck.objects.filter(request_key=request_key).first()
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                return _safety_check(actor, municipality, text, area_values, request_key)
        except IntegrityError:
            return SafetyCheck.objects.get(request_key=request_key)


def _safety_check(actor, municipality, text, areas, request_key) -> SafetyCheck:
    settings = selectors.disaster_settings(municipality=municipality)
    check = SafetyCheck.objects.create(
        municipality=municipality,
        text=text,
        area_key=settings.area_field.key if settings.area_field else "",
        area_values=areas,
        request_key=request_key,
        created_by=actor,
    )
    with translation.override(RESIDENT_LANGUAGE):
        replies = [
            {"label": str(choice.label), "data": safety_postback(check, choice.value)}
            for choice in (SafetyAnswerChoice.SAFE, SafetyAnswerChoice.NEEDS_HELP)
        ]
        title = _("Safety check")
    items = [{"type": "text", "text": text, "quick_replies": replies}]
    check.broadcasts.set(
        _broadcasts(actor, municipality, title, items, areas, "delivery.disaster.safety_check")
    )
    audit_log(actor, "delivery.safetycheck.sent", check, {"areas": areas})
    return check


def safety_answer_record(
    *, check: SafetyCheck, resident: Resident, answer: str, now: datetime
) -> SafetyAnswer:
    """Record a resident's answer: one row per resident and check, the latest tap wins
    (a double tap writes the same). In the caller's transaction and tenant scope."""
    if answer not in SafetyAnswerChoice.values:
        raise ServiceError(_("Unknown answer."))
    # Not audited: a resident's own answer, kept on its row (staff views are audited).
    recorded, _created = SafetyAnswer.objects.update_or_create(
        safety_check=check,
        resident=resident,
        defaults={"municipality": check.municipality, "answer": answer, "answered_at": now},
    )
    return recorded
