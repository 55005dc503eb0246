"""Serve the demo: web server, Celery worker and beat together, stopped together."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, a Celery worker (all queues) and beat on the embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        for folder in ("celery/queue", "celery/processed", "celery/results", "celery/control"):
            (settings.VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "govtech",
                "worker",
                "-Q",
                "inbox,engine,broadcast,default",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            "beat": [python, "-m", "celery", "-A", "govtech", "beat", "--loglevel", "INFO"],
        }
        processes = {
            name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"govtech demo at http://{addr}/admin/  (simulator: http://{addr}/simulator/)"
            )
        )
        self.stdout.write("Press Ctrl-C to stop.")
        try:
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [
            name for name, p in processes.items() if p.returncode not in (0, -signal.SIGTERM, None)
        ]
        if failed:
            self.stderr.write(f"stopped because {', '.join(failed)} exited")
