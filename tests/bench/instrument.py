"""What the bench's servers count about themselves: SQL statements, and a profile on demand.

Installed by the bench's settings module (``tests.bench.settings``) when the bench sets
``BENCH_COUNTERS_DIR`` in a server's environment; the product has no such code. Each
process counts in memory and writes its cumulative figures to
``<dir>/<pid>.json`` at most twice a second (a daemon thread, started in the process
that counts, so a prefork child never writes its parent's figures). The orchestrator
reads the files before and after its measured window and attributes each pid to a
product process by its process tree (tests.bench.cpu).

SQL: Django's ``connection.execute_wrappers`` on every new connection — count, seconds
spent in ``execute`` (the database's time plus the round trip), by statement, grouped
by its SQL template (parameters apart), so a turn's queries can be read one by one.

Profile: with ``BENCH_PROFILE_DIR`` too, each Celery task runs under cProfile
(task_prerun → task_postrun); each worker process writes ``<dir>/<pid>.prof`` every
two seconds, for ``pstats`` to merge.
"""

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

FLUSH_INTERVAL = 0.5
TEMPLATE_LENGTH = 240
SAVEPOINT_NAME = re.compile(r'"s\d+_x\d+"')  # Django's savepoints: one name each


class _Counters:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self.pid = 0
        self.queries = 0
        self.seconds = 0.0
        self.templates: dict[str, list[float]] = {}
        self.changed = False

    def _own(self) -> None:
        """First use in this process (after a fork too): fresh figures, own flusher."""
        if self.pid == os.getpid():
            return
        self.pid = os.getpid()
        self.queries, self.seconds, self.templates, self.changed = 0, 0.0, {}, False
        self.lock = threading.Lock()
        threading.Thread(target=self._flush_forever, name="bench-counters", daemon=True).start()

    def record(self, sql: str, seconds: float) -> None:
        self._own()
        template = SAVEPOINT_NAME.sub('"s…"', " ".join(str(sql).split()))[:TEMPLATE_LENGTH]
        with self.lock:
            self.queries += 1
            self.seconds += seconds
            entry = self.templates.setdefault(template, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds
            self.changed = True

    def _flush_forever(self) -> None:
        pid = os.getpid()
        while pid == os.getpid():
            time.sleep(FLUSH_INTERVAL)
            with self.lock:
                if not self.changed:
                    continue
                figures = {
                    "pid": pid,
                    "queries": self.queries,
                    "seconds": self.seconds,
                    "templates": {k: list(v) for k, v in self.templates.items()},
                }
                self.changed = False
            path = self.directory / f"{pid}.json"
            partial = path.with_suffix(".tmp")
            partial.write_text(json.dumps(figures))
            partial.replace(path)


def install(directory: str) -> None:
    """Count every SQL statement of this process's connections (see the module's doc)."""
    from django.db.backends.signals import connection_created

    counters = _Counters(Path(directory))

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            counters.record(sql, time.perf_counter() - started)

    def on_connection(sender, connection, **kwargs):
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(on_connection, weak=False, dispatch_uid="bench-sql-counters")


def install_profiler(directory: str) -> None:
    """cProfile around every Celery task of this process (see the module's doc)."""
    import cProfile

    from celery import signals

    state: dict[str, Any] = {"pid": 0}

    def profiler() -> cProfile.Profile:
        if state["pid"] != os.getpid():
            state.update(pid=os.getpid(), profile=cProfile.Profile(), dumped=time.monotonic())
        return state["profile"]

    def before(**kwargs):
        profiler().enable()

    def after(**kwargs):
        profile = profiler()
        profile.disable()
        if time.monotonic() - state["dumped"] > 2.0:
            profile.dump_stats(Path(directory) / f"{os.getpid()}.prof")
            state["dumped"] = time.monotonic()

    signals.task_prerun.connect(before, weak=False, dispatch_uid="bench-profile-before")
    signals.task_postrun.connect(after, weak=False, dispatch_uid="bench-profile-after")


def read(directory: Path) -> dict[int, dict]:
    """Every process's cumulative figures so far, by pid."""
    found = {}
    for path in directory.glob("*.json"):
        try:
            figures = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found[int(figures["pid"])] = figures
    return found


def sql_per_unit(
    before: dict[int, dict], after: dict[int, dict], members: dict[str, list[int]], units: int
) -> dict:
    """Queries and their milliseconds per unit (a turn) for each named group of pids, and
    each group's statements, most frequent first."""
    result = {}
    for name, pids in members.items():
        queries, seconds = 0, 0.0
        templates: dict[str, list[float]] = {}
        for pid in pids:
            now, then = after.get(pid), before.get(pid, {"queries": 0, "seconds": 0.0})
            if now is None:
                continue
            queries += now["queries"] - then["queries"]
            seconds += now["seconds"] - then["seconds"]
            earlier = then.get("templates", {})
            for template, (count, spent) in now["templates"].items():
                was = earlier.get(template, [0, 0.0])
                entry = templates.setdefault(template, [0, 0.0])
                entry[0] += count - was[0]
                entry[1] += spent - was[1]
        per = max(units, 1)
        ranked = sorted(templates.items(), key=lambda item: -item[1][0])
        result[name] = {
            "queries_per_turn": round(queries / per, 2),
            "sql_ms_per_turn": round(seconds * 1000 / per, 2),
            "statements": [
                {
                    "per_turn": round(count / per, 3),
                    "ms_per_turn": round(spent * 1000 / per, 3),
                    "sql": template,
                }
                for template, (count, spent) in ranked
                if count
            ][:25],
        }
    return result
