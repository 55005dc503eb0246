"""``python -m tests.bench.demo_crowd``: a room full of residents on ``make demo``'s stack.

Builds the embedded default in a fresh folder exactly as ``make demo`` does (SQLite file,
``migrate``, ``seed_demo``, then ``manage.py rundemo``: the web server, a Celery worker
and beat on the filesystem broker), and lets ``--residents`` residents book one slot of
「こどもひろば」 at once through the simulator's JSON API, as a person in the chat would:
the keyword, a day, a time, one person, a name, a phone number, 送信, and after losing
the race for the last places, the waitlist.

Each reply is timed by the simulator's own clock: from the resident's message entering
the chat to the first message of the answer appearing in it (transcript ``at``), so the
rate at which this script polls does not change the figures. Prints them, and the
checks the issue sets: every resident answered (booked or waitlisted), places taken
equal bookings, no ``database is locked`` in any log. Exit status 1 when a check fails.

Loopback only; the demo's folder is removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHANNEL_ID = "2000000001"  # seed_demo's simulator-bound channel of demo-city
RESOURCE = "kodomo-hiroba"
KEYWORD = "こどもひろば予約"
BOOKED, WAITLISTED = "予約を受け付けました", "キャンセル待ちに登録しました"
LOCKED = "database is locked"
REPLY_TIMEOUT = 60.0  # a turn without any answer this long counts as unanswered
POLL_SECONDS = 1.5  # how often a resident looks at the chat: as often as the chat page


# --- the stack -------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_env(*, var_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """``make demo``'s environment: the local kind on the embedded default, nothing else.

    Whatever the caller's environment says about PostgreSQL, Redis or test settings
    (pytest and ``make test`` set them) is removed, so the stack is the demo's.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "LINE_API_BASE_URL"}
        and not key.startswith(("GOVTECH_", "LINE_", "CELERY_"))
    }
    env.update(
        GOVTECH_ENV="local",
        GOVTECH_VAR_DIR=str(var_dir),
        SITE_URL=f"http://127.0.0.1:{port}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


def manage(*args: str, env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )


@contextlib.contextmanager
def demo_stack(*, var_dir: Path, port: int, extra_env: dict | None = None) -> Iterator[str]:
    """Migrate, seed and run ``rundemo`` in ``var_dir``; yields the base URL.

    rundemo's own output goes to ``var_dir/rundemo.log``; it is stopped with SIGINT
    (Ctrl-C, which stops its children), then its whole process group is killed.
    """
    env = demo_env(var_dir=var_dir, port=port, extra=extra_env)
    var_dir.mkdir(parents=True, exist_ok=True)
    log = var_dir / "rundemo.log"
    manage("migrate", "--noinput", "-v", "0", env=env, log=log)
    manage("seed_demo", env=env, log=log)
    with log.open("ab") as out:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--addr", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_demo(base, demo, log)
        yield base
    finally:
        stop_demo(demo)


def stop_demo(demo: subprocess.Popen) -> None:
    if demo.poll() is None:
        demo.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            demo.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(demo.pid, signal.SIGKILL)  # anything left of the group
    demo.wait(timeout=10)


def wait_for_demo(base: str, demo: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Until /healthz reports the database, broker and a live worker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise RuntimeError("rundemo exited:\n" + log.read_text()[-3000:])
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310
                health = json.loads(answer.read())
            if health["checks"]["celery_worker"]["status"] == "ok":
                return
        time.sleep(0.5)
    raise RuntimeError("the demo did not come up:\n" + log.read_text()[-3000:])


# --- one resident -----------------------------------------------------------------------


def http_json(method: str, url: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def _actions(messages: list[dict]) -> list[dict]:
    """Quick-reply and Flex-button actions of ``messages``, in order."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("action", "button") and isinstance(node.get("action"), dict):
                found.append(node["action"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(messages)
    return found


def _text(messages: list[dict]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in messages)


class Unanswered(Exception):
    """A message of the resident got no answer within REPLY_TIMEOUT."""


@dataclass
class Resident:
    base: str
    user_id: str
    replies: list[float] = field(default_factory=list)  # seconds, one per message sent
    outcome: str = "not started"
    last: list[dict] = field(default_factory=list)

    def send(self, **what: object) -> None:
        """Send one thing and wait for the answer; its delay goes into ``replies``."""
        said = http_json(
            "POST",
            f"{self.base}/simulator/api/say/",
            {"channel_id": CHANNEL_ID, "user_id": self.user_id, **what},
        )
        entry_id = said["id"]  # type: ignore[index]
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            entries = http_json(
                "GET",
                f"{self.base}/simulator/api/transcript/{self.user_id}/?after={entry_id - 1}",
            )
            sent = next(e for e in entries if e["id"] == entry_id)  # type: ignore[union-attr]
            out = [e for e in entries if e["direction"] == "out"]  # type: ignore[union-attr]
            if out:
                at = datetime.fromisoformat
                self.replies.append((at(out[0]["at"]) - at(sent["at"])).total_seconds())
                self.last = [e["message"] for e in out]
                return
        raise Unanswered(f"{self.user_id}: no answer to {what}")

    def tap(self, matches: Callable[[dict], bool]) -> None:
        action = next((a for a in _actions(self.last) if matches(a)), None)
        if action is None:
            labels = [a.get("label") for a in _actions(self.last)]
            raise AssertionError(f"{self.user_id}: no such button among {labels}")
        if action["type"] == "postback":
            self.send(postback={"data": action["data"]}, display_text=action.get("label", ""))
        else:
            self.send(text=action["text"])

    def text(self) -> str:
        return _text(self.last)


def _data(action: dict) -> str:
    return str(action.get("data") or "")


def next_move(resident: Resident, *, day: str, start: str) -> dict | None:
    """What a resident who wants ``start`` does with the chat in front of them: the
    waitlist when offered, else the day, the time, one person, a name, a phone number,
    送信. None when the chat offers none of these."""
    actions = _actions(resident.last)
    wanted = [
        lambda a: "|rsv|w|" in _data(a) and _data(a).endswith("|1"),
        lambda a: _data(a).endswith((f"s:{start}", f"w:{start}")),
        lambda a: _data(a).endswith(f"d:{day}"),
        lambda a: _data(a).endswith("p:1"),
        lambda a: a.get("label") == "送信",
    ]
    for matches in wanted:
        action = next((a for a in actions if matches(a)), None)
        if action is not None and action["type"] == "postback":
            return {"postback": {"data": action["data"]}, "display_text": action.get("label", "")}
        if action is not None:
            return {"text": action["text"]}
    if "氏名" in resident.text():
        return {"text": "デモ 花子"}
    if "電話番号" in resident.text():
        return {"text": "09012345678"}
    return None


def book(resident: Resident, *, day: str, start: str, most_turns: int = 15) -> None:
    """The keyword, then whatever the chat asks on the way to ``start`` (see next_move),
    until the resident is booked or on the waitlist. Sets ``resident.outcome``."""
    resident.send(text=KEYWORD)
    for _turn in range(most_turns):
        text = resident.text()
        if BOOKED in text or WAITLISTED in text:
            resident.outcome = "booked" if BOOKED in text else "waitlisted"
            return
        move = next_move(resident, day=day, start=start)
        if move is None:
            break
        resident.send(**move)
    resident.outcome = f"stuck at: {resident.text()[:200]}"


def first_free_slot(base: str) -> tuple[str, str]:
    """The day and start every resident aims for: the first slot of the second day offered
    (not today, whose slots may close while the crowd books)."""
    probe = Resident(base, "U" + "f" * 32)
    probe.send(text=KEYWORD)
    days = [_data(a).rsplit("d:", 1)[1] for a in _actions(probe.last) if "|d:" in _data(a)]
    day = days[1] if len(days) > 1 else days[0]
    probe.tap(lambda a: _data(a).endswith(f"d:{day}"))
    starts = [_data(a).rsplit("s:", 1)[1] for a in _actions(probe.last) if "|s:" in _data(a)]
    probe.send(text="やめる")
    return day, starts[0]


# --- the crowd ---------------------------------------------------------------------------


@dataclass
class CrowdFigures:
    residents: int
    outcomes: dict[str, int]
    replies: list[float]
    first_replies: list[float]
    confirmed_bookings: int
    places_taken: int
    capacity: int
    waiting_entries: int
    locked_errors: int
    server_errors: int
    seconds: float
    failures: list[str]

    @property
    def median(self) -> float:
        return statistics.median(self.replies) if self.replies else float("inf")

    @property
    def slowest(self) -> float:
        return max(self.replies) if self.replies else float("inf")

    def as_dict(self) -> dict:
        ordered = sorted(self.replies)
        return {
            "residents": self.residents,
            "outcomes": self.outcomes,
            "messages": len(self.replies),
            "reply_median_s": round(self.median, 2),
            "reply_p90_s": round(ordered[int(0.9 * (len(ordered) - 1))], 2) if ordered else None,
            "reply_max_s": round(self.slowest, 2),
            "first_reply_median_s": round(statistics.median(self.first_replies), 2)
            if self.first_replies
            else None,
            "confirmed_bookings": self.confirmed_bookings,
            "places_taken": self.places_taken,
            "capacity": self.capacity,
            "waitlist_entries": self.waiting_entries,
            "database_is_locked_in_logs": self.locked_errors,
            "http_500_from_simulator_in_logs": self.server_errors,
            "wall_seconds": round(self.seconds, 1),
            "failures": self.failures,
        }


def crowd_book(base: str, residents: int) -> tuple[list[Resident], float, tuple[str, str]]:
    """``residents`` threads, released together, each booking the same slot."""
    day, start = first_free_slot(base)
    crowd = [Resident(base, f"U{index:032x}") for index in range(1, residents + 1)]
    go = threading.Barrier(residents)

    def run(resident: Resident) -> None:
        go.wait()
        try:
            book(resident, day=day, start=start)
        except Unanswered as lost:
            resident.outcome = f"unanswered: {lost}"
        except Exception as exc:
            resident.outcome = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(r,)) for r in crowd]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return crowd, time.monotonic() - started, (day, start)


def slot_counts(database: Path, start: str) -> tuple[int, int, int, int]:
    """(confirmed bookings, places they take, capacity, waiting entries) of the slot."""
    when = datetime.fromisoformat(start).astimezone(UTC).replace(tzinfo=None)  # as stored
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        slots = db.execute("SELECT id, starts_at, capacity FROM procedures_slot").fetchall()
        slot_id, capacity = next(
            (pk, cap) for pk, at, cap in slots if datetime.fromisoformat(at) == when
        )
        bookings, places = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(places), 0) FROM procedures_booking "
            "WHERE slot_id = ? AND status = 'confirmed'",
            [slot_id],
        ).fetchone()
        waiting = db.execute(
            "SELECT COUNT(*) FROM procedures_waitlistentry "
            "WHERE slot_id = ? AND status = 'waiting'",
            [slot_id],
        ).fetchone()[0]
    return bookings, places, capacity, waiting


def log_counts(var_dir: Path) -> tuple[int, int]:
    """``database is locked`` lines and 500 answers of the emulated API in every log."""
    locked = errors = 0
    for log in var_dir.rglob("*.log"):
        text = log.read_text(errors="replace")
        locked += text.count(LOCKED)
        errors += len(re.findall(r"/simulator/api/line/\S* HTTP/1\.[01]\"? 500", text))
        errors += len(re.findall(r"LINE API 500", text))
    return locked, errors


def run_crowd(
    *, residents: int, var_dir: Path, port: int | None = None, extra_env: dict | None = None
) -> CrowdFigures:
    """The whole measurement on a fresh demo in ``var_dir`` (``extra_env``: settings to try)."""
    port = port or free_port()
    with demo_stack(var_dir=var_dir, port=port, extra_env=extra_env) as base:
        crowd, seconds, (_day, start) = crowd_book(base, residents)
        time.sleep(2)  # let the last sends settle before the logs are read
    outcomes: dict[str, int] = {}
    for resident in crowd:
        key = resident.outcome if resident.outcome in ("booked", "waitlisted") else "other"
        outcomes[key] = outcomes.get(key, 0) + 1
    bookings, places, capacity, waiting = slot_counts(var_dir / "govtech.sqlite3", start)
    locked, errors = log_counts(var_dir)
    return CrowdFigures(
        residents=residents,
        outcomes=outcomes,
        replies=[delay for r in crowd for delay in r.replies],
        first_replies=[r.replies[0] for r in crowd if r.replies],
        confirmed_bookings=bookings,
        places_taken=places,
        capacity=capacity,
        waiting_entries=waiting,
        locked_errors=locked,
        server_errors=errors,
        seconds=seconds,
        failures=[r.outcome for r in crowd if r.outcome not in ("booked", "waitlisted")][:10],
    )


def problems(figures: CrowdFigures) -> list[str]:
    """What the issue's acceptance refuses (timings: median ≤ 3 s, none over 30 s)."""
    found = []
    answered = figures.outcomes.get("booked", 0) + figures.outcomes.get("waitlisted", 0)
    if answered != figures.residents:
        found.append(f"{figures.residents - answered} residents got no final answer")
    if figures.confirmed_bookings != figures.outcomes.get("booked", 0):
        found.append("confirmed bookings differ from residents told 'booked'")
    if figures.places_taken != figures.confirmed_bookings:
        found.append("places taken differ from bookings")
    if figures.places_taken > figures.capacity:
        found.append("the slot is overbooked")
    if figures.waiting_entries != figures.outcomes.get("waitlisted", 0):
        found.append("waitlist entries differ from residents told 'waitlisted'")
    if figures.locked_errors:
        found.append(f"{figures.locked_errors} '{LOCKED}' in the logs")
    if figures.median > 3:
        found.append(f"median reply {figures.median:.1f} s > 3 s")
    if figures.slowest > 30:
        found.append(f"slowest reply {figures.slowest:.1f} s > 30 s")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.demo_crowd", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--var-dir", type=Path, help="the demo's folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the demo's folder and logs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a setting to try"
    )
    args = parser.parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.env)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="govtech-crowd-"))
    try:
        figures = run_crowd(residents=args.residents, var_dir=var_dir, extra_env=extra_env)
    finally:
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"demo folder and logs kept in {var_dir}", file=sys.stderr)
    result = figures.as_dict()
    found = problems(figures)
    result["problems"] = found
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
