"""The processes the bench starts: gunicorn servers and a Celery worker, on loopback only.

Each runs with the bench environment (``bench_env``) and the bench settings, writes its
log to a file, and is stopped (SIGTERM, then SIGKILL) by the context manager that started
it, whatever happens in between.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.bench.settings"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env(*, database_url: str, redis_url: str, site_url: str, line_api: str, var_dir: Path):
    """The environment of every bench process: local kind, PostgreSQL, Redis, DEBUG off.

    Set explicitly (not inherited) where it matters, so that running under pytest, whose
    settings module and GOVTECH_ENV=test leak into os.environ, changes nothing.
    """
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "GOVTECH_ENV": "local",
            "DEBUG": "0",
            "SIMULATOR_ENABLED": "1",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SITE_URL": site_url,
            "LINE_API_BASE_URL": line_api,
            "LINE_API_DATA_BASE_URL": line_api,
            "GOVTECH_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


@contextlib.contextmanager
def _admin_connection(url: str):
    """An autocommit connection to the ``postgres`` database of ``url``'s server, and the
    name of ``url``'s own database as an SQL identifier."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    params = dj_database_url.parse(url)
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        yield admin, params["NAME"], sql.Identifier(params["NAME"])


def database_ensure(url: str) -> None:
    """Create the database of ``url`` on its PostgreSQL server when it does not exist."""
    from psycopg import sql

    with _admin_connection(url) as (admin, name, identifier):
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def database_drop(url: str) -> None:
    """Drop the database of ``url`` (a throw-away bench database), connections and all."""
    from psycopg import sql

    with _admin_connection(url) as (admin, _name, identifier):
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


def redis_flush(url: str) -> None:
    """Empty the bench's Redis database: queued tasks, results, cache."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def process(name: str, command: list[str], *, env: dict, logs: Path) -> Iterator[subprocess.Popen]:
    """Run ``command`` for the duration of the block, its output in ``logs/<name>.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "wb") as log:
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent,
        )
        try:
            yield child
        finally:
            _stop(child)


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM it when the bench dies (killed by a time-out),
    so no server or worker outlives its run and takes the next run's tasks."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)  # the child's own session: it and its workers
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def gunicorn_command(*, port: int, workers: int, threads: int) -> list[str]:
    """gthread workers: keep-alive connections, ``threads`` requests at once per worker."""
    return [
        *[sys.executable, "-m", "gunicorn", "govtech.wsgi:application"],
        *["--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        *["--worker-class", "gthread", "--threads", str(threads)],
        *["--env", f"DJANGO_SETTINGS_MODULE={SETTINGS}", "--log-level", "warning"],
        *["--keep-alive", "5", "--backlog", "512"],
        # Each worker its own listening socket: the kernel spreads the load generator's
        # keep-alive connections over the workers instead of whichever wins accept(),
        # which left both targets' figures at the mercy of how 8 connections fell.
        "--reuse-port",
    ]


def celery_command(
    *, concurrency: int, queues: str = "inbox,engine,default", pool: str = "prefork", name=""
) -> list[str]:
    """A worker; ``name`` tells it apart from the others in pings (one node name each)."""
    named = ["--hostname", f"{name}@%h"] if name else []
    return [
        *[sys.executable, "-m", "celery", "-A", "govtech", "worker", *named],
        *["--queues", queues, "--concurrency", str(concurrency), "--pool", pool],
        *["--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
    ]


def wait_for_http(url: str, child: subprocess.Popen, *, timeout: float = 90.0) -> None:
    """Until ``url`` answers 200; raises when the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {child.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def wait_for_worker(child: subprocess.Popen, *, timeout: float = 60.0) -> None:
    """Until the Celery worker answers a ping over the broker."""
    from govtech.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {child.returncode}")
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError(f"the Celery worker did not answer within {timeout:.0f} s")


def wait_for_workers(children: list[subprocess.Popen], *, timeout: float = 90.0) -> None:
    """Until each of the (differently named) Celery workers answers a ping."""
    from govtech.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = [child.returncode for child in children if child.poll() is not None]
        if exited:
            raise RuntimeError(f"a Celery worker exited with {exited[0]}")
        if len(app.control.ping(timeout=1.0)) >= len(children):
            return
    raise RuntimeError(f"the Celery workers did not all answer within {timeout:.0f} s")
