"""CPU time of the processes a measured window involves, read from ``/proc`` (Linux).

A process's figure is its tree's: the process, every live descendant (gunicorn's
workers, a prefork pool's children, PostgreSQL's backends), and what the exited and
reaped descendants used (``cutime``/``cstime`` of whoever waited for them). Read before
and after the window, the difference is the CPU the tree spent in it, whatever else
the machine was doing — the robust figure on a shared, noisy 2-core machine, where
wall-clock rates move with the neighbours' load.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children), or None if gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICKS


def _parents() -> dict[int, int]:
    parents = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
    return parents


def tree(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """``pid`` and its live descendants."""
    parents = _parents() if parents is None else parents
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_seconds(pid: int, parents: dict[int, int] | None = None) -> float:
    """CPU seconds used so far by ``pid``'s tree (0 when it is gone)."""
    total = 0.0
    for member in tree(pid, parents):
        stat = _stat(member)
        if stat is not None:
            total += stat[1]
    return total


def snapshot(roots: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds so far of each named tree (a missing root is left out)."""
    parents = _parents()
    return {name: tree_seconds(pid, parents) for name, pid in roots.items() if pid}


def per_unit_ms(before: dict[str, float], after: dict[str, float], units: int) -> dict:
    """CPU milliseconds per unit (a turn) spent by each tree between two snapshots."""
    if units <= 0:
        return {name: 0.0 for name in after}
    return {
        name: round((after[name] - before.get(name, 0.0)) * 1000 / units, 2)
        for name in after
        if name in before
    }


def postgres_root(database_url: str) -> int | None:
    """The postmaster's pid when the server runs on this machine and is readable."""
    import dj_database_url
    import psycopg

    params = dj_database_url.parse(database_url)
    try:
        with psycopg.connect(
            host=params["HOST"],
            port=params["PORT"] or 5432,
            user=params["USER"],
            password=params["PASSWORD"] or None,
            dbname=params["NAME"],
        ) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            stat = _stat(int(backend))
    except psycopg.Error:
        return None
    return stat[0] if stat is not None else None  # a backend's parent: the postmaster


def redis_root(redis_url: str) -> int | None:
    """redis-server's pid (INFO server), when it runs on this machine."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    return pid if _stat(pid) is not None else None
