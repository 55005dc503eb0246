"""Reads of segments and broadcasts: audiences (SQL), counts, progress."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet, Sum
from django_scopes import scopes_disabled

from delivery.broadcasts.models import (
    Broadcast,
    BroadcastChunk,
    BroadcastPolicy,
    BroadcastStatus,
    ChunkStatus,
)
from delivery.broadcasts.segments import rules_q
from delivery.models import Friend, LineChannel
from govtech.models import AuditLogEntry, Municipality

# Audit actions read back here (the services write them).
SENT_BACK = "delivery.broadcast.sent_back"
SUBMITTED = "delivery.broadcast.submitted"


def broadcast_policy(*, municipality: Municipality) -> BroadcastPolicy:
    """The municipality's policy (defaults when none was saved: approval required)."""
    policy = BroadcastPolicy.objects.filter(municipality=municipality).first()
    return policy or BroadcastPolicy(municipality=municipality)


def segment_friends(*, channel: LineChannel, rules: dict | None) -> QuerySet[Friend]:
    """Friends of the channel who follow it and match ``rules`` (call inside the scope)."""
    return Friend.objects.filter(channel=channel, is_following=True).filter(rules_q(rules))


def segment_count(*, channel: LineChannel, rules: dict | None) -> int:
    """The live count shown in the rule builder: one COUNT(*) in the database."""
    return segment_friends(channel=channel, rules=rules).count()


def audience_rules(*, broadcast: Broadcast) -> dict:
    if broadcast.segment_id and broadcast.segment is not None:
        return broadcast.segment.rules
    return broadcast.rules or {}


def audience(*, broadcast: Broadcast) -> QuerySet[Friend]:
    return segment_friends(channel=broadcast.channel, rules=audience_rules(broadcast=broadcast))


def broadcast_for_sending(*, pk: int) -> Broadcast | None:
    """The broadcast with what starting and sending read; None when it is not the
    current tenant's (tasks run in the scope TenantTask entered)."""
    return (
        Broadcast.objects.select_related("municipality", "channel", "segment").filter(pk=pk).first()
    )


def broadcast_progress(*, broadcast: Broadcast) -> dict:
    """Sent / skipped / failed / remaining recipients, summed over the chunks (no locks)."""
    rows = (
        BroadcastChunk.objects.filter(broadcast=broadcast)
        .values("status")
        .annotate(size=Sum("size"), sent=Sum("sent_count"), skipped=Sum("skipped_count"))
    )
    by_status = {row["status"]: row for row in rows}
    done: Mapping[str, Any] = by_status.get(ChunkStatus.SENT, {})
    failed: Mapping[str, Any] = by_status.get(ChunkStatus.FAILED, {})
    sent = done.get("sent") or 0
    skipped = (done.get("skipped") or 0) + (failed.get("skipped") or 0)
    failed_count = (failed.get("size") or 0) - (failed.get("skipped") or 0)
    total = broadcast.recipients_count
    remaining = max(total - sent - skipped - failed_count, 0)
    return {
        "status": broadcast.status,
        "status_label": str(broadcast.get_status_display()),
        "recipients": total,
        "sent": sent,
        "skipped": skipped,
        "failed": failed_count,
        "remaining": remaining,
        "percent": round(100 * (total - remaining) / total, 1) if total else 100.0,
    }


def broadcasts_due(*, now) -> list[Broadcast]:
    """Scheduled broadcasts whose time has come, of every municipality (for beat)."""
    with scopes_disabled():
        return list(
            Broadcast.objects.filter(status="scheduled", scheduled_at__lte=now)
            .select_related("municipality")
            .order_by("scheduled_at")[:100]
        )


def sending_broadcasts() -> list[Broadcast]:
    """Broadcasts being sent, of every municipality (beat enters each one's scope)."""
    with scopes_disabled():
        return list(Broadcast.objects.filter(status="sending").select_related("municipality"))


def broadcast_stalled(*, broadcast_id: int, idle_before) -> bool:
    """Chunks are pending, yet none of the broadcast's chunks was claimed since
    ``idle_before`` (nor did it start since): nobody is sending it. In the tenant scope."""
    chunks = BroadcastChunk.objects.filter(broadcast_id=broadcast_id)
    started = Broadcast.objects.filter(pk=broadcast_id, started_at__lt=idle_before)
    return (
        started.exists()
        and chunks.filter(status=ChunkStatus.PENDING).exists()
        and not chunks.filter(claimed_at__gte=idle_before).exists()
    )


def broadcast_sent_back_reason(*, broadcast: Broadcast) -> str:
    """Why an admin last sent this draft back, while it is still a draft ("" otherwise)."""
    if broadcast.status != BroadcastStatus.DRAFT:
        return ""
    entry = (
        AuditLogEntry.objects.filter(
            municipality=broadcast.municipality_id,
            target_type=broadcast._meta.label_lower,
            target_id=str(broadcast.pk),
            action__in=[SENT_BACK, SUBMITTED],
        )
        .order_by("-at", "-pk")
        .first()
    )
    if entry is None or entry.action != SENT_BACK:
        return ""
    return str(entry.data.get("reason", ""))
