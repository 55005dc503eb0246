"""Celery tasks of procedures (autodiscovered): the tasks live in their sub-domain packages."""

from procedures.casework.tasks import remind_corrections  # noqa: F401
from procedures.reservations.tasks import (  # noqa: F401
    expire_offers,
    offer_freed_place,
    plan_reminders,
    send_reminder,
)
from procedures.residents.tasks import send_notice, send_stale_notices  # noqa: F401
