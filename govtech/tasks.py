"""Core Celery tasks, and the base class of tasks that work for one municipality."""

import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.cache import cache
from django.db import models
from django.utils import timezone

from govtech.models import Municipality
from govtech.tenancy import scopes_disabled, tenant_scope

HEARTBEAT_KEY = "govtech:celery:heartbeat"

logger = logging.getLogger(__name__)


class TenantTask(DjangoTask):
    """Base of tasks that work inside one municipality (pretix's ``EventTask``).

    Enqueue with ``municipality_id=<pk>`` among the keyword arguments
    (``shared_task(base=TenantTask)``, ``task.delay(row_id, municipality_id=...)``). The
    worker loads that municipality and runs the body inside its ``tenant_scope``, so every
    query of the body is confined to it: another municipality's row is not found. The body
    receives ``municipality_id`` unchanged. When the municipality no longer exists, the
    body does not run and the task returns None. A DjangoTask, as the app's tasks are
    (``delay_on_commit``).

    ``legacy_row_model``: messages queued before a task took ``municipality_id`` name only
    a row of this model (their first argument); the row's municipality is used.
    """

    abstract = True
    legacy_row_model: type[models.Model] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        municipality = self._municipality(args, kwargs)
        if municipality is None:
            logger.info("%s%s: the municipality is gone; nothing to do", self.name, args)
            return None
        kwargs["municipality_id"] = municipality.pk
        with tenant_scope(municipality):
            return super().__call__(*args, **kwargs)

    def _municipality(self, args: tuple, kwargs: dict) -> Municipality | None:
        municipality_id = kwargs.get("municipality_id")
        if municipality_id is None:
            municipality_id = self._legacy_municipality_id(args)
        if municipality_id is None:  # the row is gone
            return None
        return Municipality.objects.filter(pk=municipality_id).first()

    def _legacy_municipality_id(self, args: tuple) -> int | None:
        if self.legacy_row_model is None or not args:
            raise TypeError(f"{self.name} needs municipality_id")
        with scopes_disabled():  # an old message names only the row: find its tenant
            rows = self.legacy_row_model.objects.filter(pk=args[0])  # type: ignore[attr-defined]
            return rows.values_list("municipality_id", flat=True).first()


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
