"""Segments, broadcasts and calendar reminders: the right message to the right residents, once.

Models in ``models.py`` (imported by ``delivery.models``), writes in ``services.py``, reads
in ``selectors.py``, segment rules → SQL in ``segments.py``, Celery tasks in ``tasks.py``.
"""
