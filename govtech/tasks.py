"""Core Celery tasks."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "govtech:celery:heartbeat"


@shared_task(name="govtech.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Record that a worker is alive (scheduled by beat every 30 s; /healthz reads it).

    Idempotent: it only overwrites one timestamp.
    """
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task(name="govtech.tasks.ping")
def ping(value: str) -> str:
    """Echo a value back through the broker and result backend (used by health checks and tests)."""
    return f"pong:{value}"
