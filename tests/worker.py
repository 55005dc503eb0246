"""A real Celery worker for tests that need one: a subprocess on the test database.

The worker reads the same PostgreSQL test database and Redis as the test (the live
server's data is committed: use ``transactional_db``) and calls the live server's
simulator as its LINE.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def celery_worker_start(
    *, live_server_url: str, queues: str, log: Path, concurrency: int = 1
) -> subprocess.Popen:
    """A worker consuming ``queues`` (prefork with ``concurrency`` > 1, else solo)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="govtech.settings",
        GOVTECH_ENV="local",
        DATABASE_URL=_database_url(),
        SITE_URL=live_server_url,
        LINE_API_BASE_URL=f"{live_server_url}/simulator/api/line",
        LINE_API_DATA_BASE_URL=f"{live_server_url}/simulator/api/line",
    )
    pool = ["--pool", "prefork", "--concurrency", str(concurrency)]
    command = [sys.executable, "-m", "celery", "-A", "govtech", "worker", "-Q", queues]
    command += pool if concurrency > 1 else ["--pool", "solo"]
    command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    with log.open("a") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool's children go with it
        )


def celery_worker_stop(worker: subprocess.Popen) -> None:
    """Kill the worker and its pool processes, which hold database connections (the test
    database cannot be dropped while any is open)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_until(condition: Callable[[], bool], *, timeout: float, log: Path) -> None:
    """Poll ``condition`` until true; on time-out fail with the worker's log."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out; worker log:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
