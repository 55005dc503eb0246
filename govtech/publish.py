"""Publishing Celery tasks by name once the current transaction commits.

Zulip's ``queue_event_on_commit``: a service that wants work done later names the task
instead of importing its module, so services and tasks never import each other and the
worker never sees a row that was rolled back.
"""

from typing import Any

from celery import current_app
from django.db import transaction


def publish_task(name: str, *args: Any, **kwargs: Any) -> None:
    """Send task ``name`` now. A registered task goes through its ``delay`` (so the eager
    mode of tests and of a worker-less demo runs it in process); an unknown name is sent
    to the broker for whichever worker knows it."""
    task = current_app.tasks.get(name)
    if task is None:  # a web process imports task modules only when first needed
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(name)
    if task is None:
        current_app.send_task(name, args=args, kwargs=kwargs)
    else:
        task.delay(*args, **kwargs)


def publish_task_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """Send task ``name`` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish_task(name, *args, **kwargs))
