"""Celery tasks of residents: sending the outbox. They take ids and can run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from govtech.publish import publish_task
from govtech.tasks import TenantTask
from procedures.residents.models import Notice, NoticeStatus
from procedures.residents.registry import NoticeSendFailed
from procedures.residents.services import SEND_NOTICE_TASK, notice_send

MAX_RETRIES = 5
RESEND_AFTER = timedelta(minutes=2)


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: 5, 10, 20, 40, 80 (under three minutes in all)."""
    return 5 * 2**retries


@shared_task(
    name=SEND_NOTICE_TASK,
    bind=True,
    base=TenantTask,
    legacy_row_model=Notice,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def send_notice(self, notice_id: int, *, municipality_id: int) -> str:
    """Send one notice (procedures.residents.services.notice_send), in the scope of the
    municipality named; a transient failure is retried with backoff up to MAX_RETRIES
    times, the last one recorded as failed."""
    if not Notice.objects.filter(pk=notice_id).exists():  # gone, or not this municipality's
        return "missing"
    final = self.request.retries >= MAX_RETRIES
    try:
        return notice_send(notice_id=notice_id, final_attempt=final)
    except NoticeSendFailed as exc:
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc


@shared_task(name="procedures.residents.send_stale_notices", ignore_result=True)
def send_stale_notices() -> int:
    """Beat, every minute: publish again notices still pending a while after they were
    written (their task was lost, e.g. the broker restarted before it ran). A notice
    whose task is merely slow is claimed by one run only."""
    cutoff = timezone.now() - RESEND_AFTER
    with scopes_disabled():
        stale = list(
            Notice.objects.filter(status=NoticeStatus.PENDING, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "municipality_id")[:500]
        )
    for pk, municipality_id in stale:
        publish_task(SEND_NOTICE_TASK, pk, municipality_id=municipality_id)
    return len(stale)
