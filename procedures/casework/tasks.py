"""Celery tasks of casework. Beat runs them; they enter each municipality's scope and can
run twice (a reminder is claimed with a conditional update before it is written)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures.casework.services import correction_remind, corrections_due_for_reminder


@shared_task(name="procedures.casework.remind_corrections", ignore_result=True)
def remind_corrections() -> int:
    """Beat, hourly: the one reminder of each open correction request nearing its
    deadline (a third of its period before it, at least a day). Returns how many were sent
    now; a parallel run reminds nobody twice."""
    now, sent = timezone.now(), 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            for request_id in corrections_due_for_reminder(now=now):
                sent += correction_remind(request_id=request_id, now=now)
    return sent
