"""govtech: the project package and its core (tenants, staff, audit, encryption)."""

from govtech.celery import app as celery_app

__all__ = ["celery_app"]
