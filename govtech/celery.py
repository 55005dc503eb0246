"""The Celery application. Queues: `engine` (resident conversations), `broadcast`, `default`."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govtech.settings")

app = Celery("govtech")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_queue_folders(sender: Celery, **kwargs) -> None:
    """The filesystem transport (embedded default) expects its folders to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def _first_heartbeat(**kwargs) -> None:
    """Report the worker alive as soon as it starts, not 30 s later at beat's first tick.

    By name: this module is imported with the project package, before Django is set up,
    so it cannot import the tasks module (which needs Django)."""
    app.tasks["govtech.tasks.worker_heartbeat"]()
