"""Writes of segments and broadcasts: attributes, segments, the broadcast lifecycle
(draft → approval → scheduled → sending → sent, or cancelled/refused) and freezing.

Sending the chunks lives in ``sending.py``; calendar reminders in ``reminders.py``.
"""

import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.broadcasts import messages as composed
from delivery.broadcasts import selectors
from delivery.broadcasts.messages import render_for
from delivery.broadcasts.models import (
    AttributeField,
    AttributeKind,
    Broadcast,
    BroadcastChunk,
    BroadcastPolicy,
    BroadcastRecipient,
    BroadcastStatus,
    Segment,
)
from delivery.broadcasts.segments import validate_rules
from delivery.broadcasts.sending import broadcast_finish_if_done, senders_for
from delivery.broadcasts.testers import staff_test_friends
from delivery.line_api import LineApiError, LineClient
from delivery.models import LineChannel, OutboundMessage
from delivery.outbound import outbound_send
from govtech.access import staff_context_for
from govtech.models import Municipality, User
from govtech.publish import publish_task, publish_task_on_commit
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures.models import Submission
from procedures.residents.models import Resident
from procedures.residents.services import resident_attributes_update

logger = logging.getLogger(__name__)

BROADCAST_START_TASK = "delivery.tasks.broadcast_start"
BROADCAST_SEND_TASK = "delivery.tasks.broadcast_send"
CANCELLABLE = (BroadcastStatus.DRAFT, BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED)


# --- attributes ---------------------------------------------------------------------------


def _attribute_value(field: AttributeField, answer: Any) -> Any:
    """The stored form of an answer, or None when it does not fit the field."""
    if field.kind == AttributeKind.MULTI_CHOICE:
        values = answer if isinstance(answer, list) else [answer]
        allowed = set(field.option_values)
        return [str(v) for v in values if str(v) in allowed]
    if field.kind == AttributeKind.CHOICE:
        return str(answer) if str(answer) in field.option_values else None
    if field.kind == AttributeKind.NUMBER:
        try:
            return int(answer)
        except (TypeError, ValueError):
            return None
    return str(answer)[:200]


def resident_attributes_set(*, resident: Resident, answers: dict, definition: dict) -> dict:
    """Write a resident's own profile answers to their attributes (step id = attribute key).

    Only keys the municipality defined as attribute fields are written, in their field's
    form; other answers are ignored. Called when a ``profile`` procedure is submitted, so
    the resident, not staff, decides. Returns the changed attributes.
    """
    step_ids = {step.get("id") for step in definition.get("steps", [])}
    with tenant_scope(resident.municipality):
        fields = AttributeField.objects.filter(key__in=[k for k in answers if k in step_ids])
        changed = {}
        for field in fields:
            value = _attribute_value(field, answers[field.key])
            if value is not None:
                changed[field.key] = value
    if changed:
        resident_attributes_update(resident=resident, values=changed)
    audit_log(None, "procedures.resident.attributes_set", resident, {"keys": sorted(changed)})
    return changed


def profile_submitted(submission: Submission) -> None:
    """The ``profile`` kind's submit effect: the resident's answers become their
    attributes (registered in ``DeliveryConfig.ready``; runs in the submission's
    transaction, writes rows only)."""
    resident_attributes_set(
        resident=submission.resident, answers=submission.answers, definition=submission.definition
    )


# --- segments and policy ------------------------------------------------------------------


def segment_save(
    *,
    actor: User | None,
    municipality: Municipality,
    name: str,
    rules: dict,
    segment: Segment | None = None,
) -> Segment:
    """Create or change a segment after validating its rules. Raises ValidationError."""
    validate_rules(rules)
    with tenant_scope(municipality):
        if segment is None:
            segment = Segment(municipality=municipality)
        segment.name, segment.rules = name, rules
        segment.save()
    audit_log(actor, "delivery.segment.saved", segment, {"rules": rules})
    return segment


def broadcast_policy_set(
    *, actor: User | None, municipality: Municipality, **values: Any
) -> BroadcastPolicy:
    """Set approval/ceiling/rate for a municipality (created with defaults when missing)."""
    with tenant_scope(municipality):
        policy = selectors.broadcast_policy(municipality=municipality)
        for name, value in values.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
    changes = {name: str(value) for name, value in values.items()}
    audit_log(actor, "delivery.broadcastpolicy.changed", policy, changes)
    return policy


# --- lifecycle ----------------------------------------------------------------------------


def broadcast_create(
    *,
    actor: User | None,
    channel: LineChannel,
    title: str,
    items: list[dict],
    segment: Segment | None = None,
    rules: dict | None = None,
    scheduled_at: datetime | None = None,
) -> Broadcast:
    """A draft broadcast. Raises ValidationError for bad messages or rules."""
    composed.validate_items(items)
    validate_rules(rules or {})
    with tenant_scope(channel.municipality):
        broadcast = Broadcast.objects.create(
            municipality=channel.municipality,
            channel=channel,
            title=title,
            messages=items,
            segment=segment,
            rules=rules or {},
            scheduled_at=scheduled_at,
            created_by=actor,
        )
    audit_log(actor, "delivery.broadcast.created", broadcast, {"title": title})
    return broadcast


def _move(broadcast: Broadcast, frm: tuple, to: str, **changes: Any) -> bool:
    """Conditional status change: False when someone else moved it first."""
    moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=frm).update(status=to, **changes)
    if moved:
        broadcast.refresh_from_db()
    return bool(moved)


def _enqueue_start_if_due(broadcast: Broadcast) -> None:
    if broadcast.status != BroadcastStatus.SCHEDULED:
        return
    # Every way into SCHEDULED stores a send time (submit fills in now; only drafts are
    # editable). Without one it is never due, as for broadcasts_due().
    if broadcast.scheduled_at is not None and broadcast.scheduled_at <= timezone.now():
        publish_task_on_commit(
            BROADCAST_START_TASK, broadcast.pk, municipality_id=broadcast.municipality_id
        )


def broadcast_submit(*, actor: User | None, broadcast: Broadcast) -> Broadcast:
    """Send a draft for approval, or schedule it when the municipality needs none.

    Without a send time it is due at once. Raises ServiceError when not a draft.
    """
    with tenant_scope(broadcast.municipality), transaction.atomic():
        policy = selectors.broadcast_policy(municipality=broadcast.municipality)
        when = broadcast.scheduled_at or timezone.now()
        target = (
            BroadcastStatus.AWAITING_APPROVAL
            if policy.approval_required
            else BroadcastStatus.SCHEDULED
        )
        if not _move(broadcast, (BroadcastStatus.DRAFT,), target, scheduled_at=when):
            raise ServiceError(_("Only a draft can be submitted."))
        audit_log(actor, "delivery.broadcast.submitted", broadcast, {"status": target})
        _enqueue_start_if_due(broadcast)
    return broadcast


def broadcast_approve(*, actor: User, broadcast: Broadcast) -> Broadcast:
    """A municipality admin other than the author approves: the broadcast is scheduled.

    Raises ServiceError for anyone else or when it is not awaiting approval.
    """
    staff = staff_context_for(actor, municipality_id=broadcast.municipality_id)
    if not (staff.is_operator or (staff.municipality == broadcast.municipality and staff.is_admin)):
        raise ServiceError(_("Only a municipality admin can approve a broadcast."))
    if actor.pk == broadcast.created_by_id:
        raise ServiceError(_("The author cannot approve their own broadcast."))
    with tenant_scope(broadcast.municipality), transaction.atomic():
        now = timezone.now()
        if not _move(
            broadcast,
            (BroadcastStatus.AWAITING_APPROVAL,),
            BroadcastStatus.SCHEDULED,
            approved_by=actor,
            approved_at=now,
        ):
            raise ServiceError(_("This broadcast is not awaiting approval."))
        audit_log(actor, "delivery.broadcast.approved", broadcast, {})
        _enqueue_start_if_due(broadcast)
    return broadcast


def broadcast_send_now(
    *,
    actor: User,
    channel: LineChannel,
    title: str,
    items: list[dict],
    rules: dict | None,
    reason: str,
) -> Broadcast:
    """A broadcast that goes out at once without the approval step: a disaster alert or a
    safety check, which a municipality admin has already confirmed on its own page.

    Created scheduled for now, urgent (the municipality's quota ceiling does not stop
    it; LINE's quota does), marked approved by ``actor`` and audited with ``reason``
    (the action that sent it); its start is enqueued after the caller's transaction
    commits, and sending is the ordinary one (frozen recipients, chunks, retry keys).
    Exactly once is the caller's to ensure (its own unique request row in the same
    transaction). Raises ValidationError for bad messages or rules.
    """
    composed.validate_items(items)
    validate_rules(rules or {})
    now = timezone.now()
    with tenant_scope(channel.municipality), transaction.atomic():
        broadcast = Broadcast.objects.create(
            municipality=channel.municipality,
            channel=channel,
            title=title[:100],
            messages=items,
            rules=rules or {},
            status=BroadcastStatus.SCHEDULED,
            scheduled_at=now,
            created_by=actor,
            approved_by=actor,
            approved_at=now,
            urgent=True,
        )
        audit_log(actor, "delivery.broadcast.sent_without_approval", broadcast, {"reason": reason})
        _enqueue_start_if_due(broadcast)
    return broadcast


def broadcast_send_back(*, actor: User, broadcast: Broadcast, reason: str) -> Broadcast:
    """A municipality admin returns a broadcast awaiting approval to its author as a draft,
    saying why (kept in the audit log, shown on the broadcast's page). Conditional, so it
    cannot race an approval. Raises ServiceError for anyone else, without a reason, or
    when it is not awaiting approval."""
    staff = staff_context_for(actor, municipality_id=broadcast.municipality_id)
    if not (staff.is_operator or (staff.municipality == broadcast.municipality and staff.is_admin)):
        raise ServiceError(_("Only a municipality admin can send a broadcast back."))
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Say what the author should change."))
    with tenant_scope(broadcast.municipality), transaction.atomic():
        moved = _move(broadcast, (BroadcastStatus.AWAITING_APPROVAL,), BroadcastStatus.DRAFT)
        if not moved:
            raise ServiceError(_("This broadcast is not awaiting approval."))
        audit_log(actor, selectors.SENT_BACK, broadcast, {"reason": reason})
    return broadcast


def broadcast_cancel(*, actor: User | None, broadcast: Broadcast) -> Broadcast:
    """Cancel a broadcast that has not started. Raises ServiceError once sending began."""
    with tenant_scope(broadcast.municipality):
        if not _move(broadcast, CANCELLABLE, BroadcastStatus.CANCELLED):
            raise ServiceError(_("A broadcast can only be cancelled before it starts."))
    audit_log(actor, "delivery.broadcast.cancelled", broadcast, {})
    return broadcast


class NoTestResident(ServiceError):
    """The staff member has no test resident on the broadcast's channel: nothing was sent."""


def broadcast_test_send(*, actor: User, broadcast: Broadcast) -> list[OutboundMessage]:
    """Push the broadcast to the actor's own test resident(s) on its channel, nobody else.

    Each push is an OutboundMessage sent with its own retry key; the returned messages
    say whether each one went out. Raises NoTestResident (nothing sent) when the actor
    has no test resident there (see ``testers``). Audited.
    """
    channel = broadcast.channel
    testers = staff_test_friends(user=actor, channel=channel)
    if not testers:
        raise NoTestResident(
            _("You have no test resident on %(channel)s yet: nothing was sent.")
            % {"channel": channel.name}
        )
    sent = []
    with tenant_scope(broadcast.municipality), LineClient(channel.access_token) as client:
        for friend in testers:
            message = OutboundMessage.objects.create(
                municipality=broadcast.municipality,
                channel=channel,
                friend=friend,
                messages=render_for(broadcast, friend=friend),
            )
            outbound_send(friend=friend, client=client)
            message.refresh_from_db()
            sent.append(message)
    recipients = [friend.pk for friend in testers]
    audit_log(actor, "delivery.broadcast.test_sent", broadcast, {"friends": recipients})
    return sent


# --- starting: quota check, freezing recipients, writing chunks ---------------------------


def _quota_room(broadcast: Broadcast, policy: BroadcastPolicy) -> int | None:
    """Messages this broadcast may still use this month (None: no limit). An urgent one
    is held back only by LINE's quota, not by the municipality's ceiling. Network I/O."""
    with LineClient(broadcast.channel.access_token) as client:
        quota, used = client.quota(), client.quota_consumption()
    ceiling = None if broadcast.urgent else policy.quota_ceiling
    limits = [limit for limit in (quota, ceiling) if limit is not None]
    return min(limits) - used if limits else None


ANALYZE_AFTER_FREEZE = 10_000


def _freeze(broadcast: Broadcast) -> int:
    """INSERT … SELECT the audience into BroadcastRecipient with dense ``seq``; one statement."""
    friends = (
        selectors.audience(broadcast=broadcast)
        .order_by()
        .annotate(
            _broadcast=Value(broadcast.pk),
            _seq=Window(RowNumber(), order_by=F("pk").asc()) - 1,
        )
        .values_list("_broadcast", "_seq", "pk")
    )
    sql, params = friends.query.sql_with_params()
    table = BroadcastRecipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (broadcast_id, seq, friend_id) {sql}", params)
        frozen = cursor.rowcount
        if connection.vendor == "postgresql" and frozen >= ANALYZE_AFTER_FREEZE:
            # Fresh statistics, or the planner scans the whole table for every chunk
            # (measured: 285 ms instead of 34 ms per chunk after a large freeze). ANALYZE
            # locks the table against other ANALYZEs until commit: when another freeze is
            # analysing it, that one refreshes the statistics, and this one does not wait
            # (20 cities starting at once queued for seconds, holding workers; decision 0019).
            cursor.execute(f"ANALYZE (SKIP_LOCKED) {table}")
        return frozen


def _write_chunks(broadcast: Broadcast, total: int) -> None:
    size = broadcast.chunk_size
    BroadcastChunk.objects.bulk_create(
        [
            BroadcastChunk(
                broadcast=broadcast, index=i, first_seq=i * size, size=min(size, total - i * size)
            )
            for i in range((total + size - 1) // size)
        ],
        batch_size=1000,
    )


def _refuse(broadcast: Broadcast, reason: str) -> None:
    Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.SENDING).update(
        status=BroadcastStatus.REFUSED, error=reason, finished_at=timezone.now()
    )
    audit_log(None, "delivery.broadcast.refused", broadcast, {"reason": reason})


def broadcast_start(*, broadcast_id: int) -> bool:
    """Start a due, scheduled broadcast: freeze its recipients and write its chunks, once.

    The status move SCHEDULED → SENDING is a conditional update in the same transaction
    as the freeze, so two starts (beat and a task, a redelivered task) freeze once; the
    loser returns False. Refuses (status REFUSED) a broadcast whose projected cost
    exceeds the month's remaining quota or the municipality's ceiling. Chunk tasks are
    enqueued after commit. In the broadcast's tenant scope (another's broadcast: False).
    """
    broadcast = selectors.broadcast_for_sending(pk=broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SCHEDULED:
        return False
    policy = selectors.broadcast_policy(municipality=broadcast.municipality)
    try:
        room = _quota_room(broadcast, policy)
    except LineApiError as exc:
        logger.warning("broadcast %s: quota unknown (%s); starting later", broadcast.pk, exc)
        return False
    with transaction.atomic():
        now = timezone.now()
        if not _move(
            broadcast, (BroadcastStatus.SCHEDULED,), BroadcastStatus.SENDING, started_at=now
        ):
            return False
        if room is not None and selectors.audience(broadcast=broadcast).count() > room:
            _refuse(broadcast, _("The broadcast would exceed this month's message quota."))
            return False
        total = _freeze(broadcast)
        _write_chunks(broadcast, total)
        Broadcast.objects.filter(pk=broadcast.pk).update(
            recipients_count=total, frozen_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_chunks(broadcast))
    audit_log(None, "delivery.broadcast.started", broadcast, {"recipients": total})
    return True


def _enqueue_chunks(broadcast: Broadcast) -> None:
    with tenant_scope(broadcast.municipality):  # after commit: maybe outside the caller's
        policy = selectors.broadcast_policy(municipality=broadcast.municipality)
        for _sender in range(senders_for(policy.requests_per_second)):  # sharing the chunks
            publish_task(
                BROADCAST_SEND_TASK, broadcast.pk, municipality_id=broadcast.municipality_id
            )
        broadcast_finish_if_done(broadcast_id=broadcast.pk)  # an empty audience is done now
