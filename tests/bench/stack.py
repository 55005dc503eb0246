"""The production stack a bench runs against, started and stopped as one block.

README "Running in production" deploys gunicorn for the web and one Celery worker per
queue (``inbox`` × 1, ``engine``, ``broadcast`` on threads, ``default``) and exactly one
beat; the simulator (LINE's side) runs in a gunicorn of its own, never the product's, so
its CPU is the rig's. The conversation, burst and rush benches each start a variant of
it (which queues, how many processes, beat or not); this is the one place that does.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench import servers

# README "Workers": (queues, pool, concurrency) of each worker process.
README_WORKERS = (
    ("inbox", "prefork", 1),
    ("engine", "prefork", 4),
    ("broadcast", "threads", 8),
    ("default", "prefork", 2),
)


def readme_workers(*, engine: int) -> tuple[tuple[str, str, int], ...]:
    """README's workers with ``engine`` processes on the engine queue."""
    return tuple((q, pool, engine if q == "engine" else n) for q, pool, n in README_WORKERS)


@dataclass
class Stack:
    """The running processes, by role; each is the root of its process tree."""

    web: subprocess.Popen
    simulator: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)  # by queues
    beat: subprocess.Popen | None = None


def beat_command() -> list[str]:
    """One beat, as production runs it (schedules in the database)."""
    return [
        *[sys.executable, "-m", "celery", "-A", "govtech", "beat", "--loglevel", "WARNING"],
    ]


@contextlib.contextmanager
def production_stack(
    *,
    env: dict,
    product_port: int,
    line_port: int,
    logs: Path,
    workers: tuple[tuple[str, str, int], ...] = README_WORKERS,
    web_workers: int = 2,
    web_threads: int = 4,
    line_threads: int = 16,
    beat: bool = False,
    prefix: str = "stack",
) -> Iterator[Stack]:
    """The product's gunicorn, the simulator's, one worker per entry of ``workers`` and
    (``beat``) one beat, each logging to ``logs/<prefix>-<role>.log``; all ready (HTTP
    answered, every worker answering a ping) when the block starts, all stopped after."""
    product = servers.gunicorn_command(port=product_port, workers=web_workers, threads=web_threads)
    line = servers.gunicorn_command(port=line_port, workers=1, threads=line_threads)
    with contextlib.ExitStack() as stack:

        def start(role: str, command: list[str]) -> subprocess.Popen:
            return stack.enter_context(
                servers.process(f"{prefix}-{role}", command, env=env, logs=logs)
            )

        running = Stack(web=start("web", product), simulator=start("line", line))
        for queues, pool, concurrency in workers:
            name = f"{prefix}-{queues.replace(',', '-')}"
            command = servers.celery_command(
                concurrency=concurrency, queues=queues, pool=pool, name=name
            )
            running.workers[queues] = start(f"{queues.replace(',', '-')}-worker", command)
        if beat:
            running.beat = start("beat", beat_command())
        servers.wait_for_http(f"{env['SITE_URL']}/bench/bare/", running.web)
        url = f"http://127.0.0.1:{line_port}/simulator/api/channels/"
        servers.wait_for_http(url, running.simulator)
        servers.wait_for_workers(list(running.workers.values()))
        yield running
