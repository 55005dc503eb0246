"""Serve the demo: gunicorn, a Celery worker (all queues) and beat, stopped together.

gunicorn rather than Django's development server, which reset 16 of 40 simultaneous
first connections (docs/decisions/0011-embedded-default-under-load.md). Each process writes its log
to a file under ``var/log/``, so the terminal shows only where the demo is, the logins
and where the logs are, once everything answers.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from govtech.management.commands.seed_demo import demo_logins, embedded_folders_ensure

WEB_WORKERS = 2  # processes; each answers WEB_THREADS requests at once
# The simulator's `say` waits for the product's webhook, which this same server answers:
# with fewer threads than residents talking at once, every thread can be a `say` waiting
# for a webhook that no thread is left to answer (until the simulator's 10 s timeout).
WEB_THREADS = 32
# The access log's usual fields, then how long the answer took (seconds).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss'
WORKER_CONCURRENCY = 4  # tasks mostly wait for LINE (the simulator) and the SQLite lock
READY_TIMEOUT = 90  # seconds to wait for the web and the worker to answer


def web_command(addr: str) -> list[str]:
    return [
        *[sys.executable, "-m", "gunicorn", "govtech.wsgi:application", "--bind", addr],
        *["--workers", str(WEB_WORKERS), "--worker-class", "gthread"],
        *["--threads", str(WEB_THREADS), "--timeout", "120"],
        *["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT],
    ]


def worker_command() -> list[str]:
    return [
        *[sys.executable, "-m", "celery", "-A", "govtech", "worker"],
        *["-Q", "inbox,engine,broadcast,default", "--concurrency", str(WORKER_CONCURRENCY)],
        # No gossip or mingle: one worker has no peers, and each would be one more
        # queue folder to poll.
        *["--without-gossip", "--without-mingle", "--loglevel", "INFO"],
    ]


def beat_command() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "govtech", "beat", "--loglevel", "INFO"]


class Command(BaseCommand):
    help = "Run the web server, a Celery worker (all queues) and beat on the embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        embedded_folders_ensure()
        logs = settings.VAR_DIR / "log"
        logs.mkdir(parents=True, exist_ok=True)
        commands = {"web": web_command(addr), "worker": worker_command(), "beat": beat_command()}
        processes = {name: _start(cmd, logs / f"{name}.log") for name, cmd in commands.items()}
        signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: children too
        exited: list[str] = []
        try:
            if _wait_until_ready(f"http://{addr}", processes):
                self._banner(addr, logs)
                while all(p.poll() is None for p in processes.values()):
                    time.sleep(0.5)
            exited = [name for name, p in processes.items() if p.poll() is not None]
        except KeyboardInterrupt:
            pass
        finally:
            _stop(processes)
        if exited:
            self.stderr.write(f"stopped because {', '.join(exited)} exited; see {logs}/")

    def _banner(self, addr: str, logs: Path) -> None:
        out, style = self.stdout, self.style
        out.write("")
        out.write(style.SUCCESS(f"govtech demo is running at http://{addr}/"))
        out.write(f"  console    http://{addr}/admin/")
        out.write(f"  simulator  http://{addr}/simulator/   (LINE chat as a resident)")
        for line in demo_logins():
            out.write(line)
        out.write(f"Logs: {logs}/web.log, worker.log, beat.log")
        out.write("Press Ctrl-C to stop.")


def _start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=os.environ.copy(), stdout=out, stderr=out)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_until_ready(base: str, processes: dict[str, subprocess.Popen]) -> bool:
    """Until /healthz answers and reports a live worker; False when a process exited."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return False
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310
                if json.loads(answer.read())["checks"]["celery_worker"]["status"] == "ok":
                    return True
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    return True  # slow, but running: say where it is anyway


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every child still running, then wait (a second Ctrl-C changes nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
