"""Celery tasks of procedures (autodiscovered): the reservation tasks live in their package."""

from procedures.reservations.tasks import (  # noqa: F401
    expire_offers,
    offer_freed_place,
    plan_reminders,
    send_reminder,
    send_waitlist_offer,
    tell_cancelled_by_staff,
)
