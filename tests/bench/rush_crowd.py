"""The rush's residents (tests.bench.rush): each a thread that books through the simulator.

A resident sends an input to the simulator's JSON API (which signs and posts the webhook
event as LINE would), then waits for the bot's reply to reach the emulated Messaging API:
one watcher reads the simulator's transcript for every resident at once.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import time as clock_time
from typing import Any

from tests.bench.turns import SimulatorClient, TurnFailed, Waiter, flex_postback

TURN_TIMEOUT = 900.0  # a resident's wait for one reply before it counts as unanswered
WATCH_INTERVAL = 0.05  # delays the resident's next input, never the measured latency
GAP_GRACE = 15.0  # seconds a transcript id may be missing before it counts as rolled back
SUBMIT_LABEL = "送信"
BOOKED_MARK = "受付番号"
HOUR = clock_time(10)  # the facility's one slot a day


# --- watching the emulated API --------------------------------------------------------


class ReplyWatcher(threading.Thread):
    """Hands each waiting resident the bot's messages that arrived after their input.

    Reads the simulator's transcript from a cursor, every row once (one query per
    interval, whatever the number of residents waiting). Ids are given out at INSERT
    and become visible at COMMIT, so a later id can be seen before an earlier one: the
    cursor stops at the first id not seen yet and waits ``GAP_GRACE`` seconds for it
    (a rolled-back insert leaves a gap for good). A reply that arrives before its
    resident registered is kept until it does.
    """

    def __init__(self, after_id: int) -> None:
        super().__init__(name="rush-watcher", daemon=True)
        self.low = after_id
        self.seen: set[int] = set()
        self.missing: dict[int, float] = {}
        self.waiting: dict[str, Waiter] = {}
        self.early: dict[str, list[tuple[int, dict, float]]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.polls = 0

    def expect(self, user_id: str, after: int) -> Waiter:
        waiter = Waiter(after=after)
        with self.lock:
            rows = [row for row in self.early.pop(user_id, []) if row[0] > after]
            if rows:
                self._hand(waiter, rows)
            else:
                self.waiting[user_id] = waiter
        return waiter

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.wait(WATCH_INTERVAL):
                self._poll()
        finally:
            connection.close()

    def _poll(self) -> None:
        from delivery.simulator.models import SimulatorTranscriptEntry

        self.polls += 1
        rows = SimulatorTranscriptEntry.objects.filter(id__gt=self.low).order_by("id")
        arrived: dict[str, list[tuple[int, dict, float]]] = {}
        fields = ("id", "user__user_id", "direction", "message", "at")
        for entry_id, user_id, direction, message, at in rows.values_list(*fields):
            if entry_id in self.seen:
                continue
            self.seen.add(entry_id)
            if direction == SimulatorTranscriptEntry.Direction.OUT:
                arrived.setdefault(user_id, []).append((entry_id, message, at.timestamp()))
        with self.lock:
            for user_id, rows_of_user in arrived.items():
                waiter = self.waiting.get(user_id)
                mine = [row for row in rows_of_user if waiter and row[0] > waiter.after]
                if waiter is not None and mine:
                    del self.waiting[user_id]
                    self._hand(waiter, mine)
                else:
                    self.early.setdefault(user_id, []).extend(rows_of_user)
        self._advance()

    @staticmethod
    def _hand(waiter: Waiter, rows: list[tuple[int, dict, float]]) -> None:
        waiter.entries = [message for _id, message, _at in rows]
        waiter.arrived_at = rows[0][2]
        waiter.done.set()

    def _advance(self) -> None:
        """Move the cursor over every id seen, or missing for longer than GAP_GRACE."""
        top, now = max(self.seen, default=self.low), time.monotonic()
        while self.low < top:
            following = self.low + 1
            if following not in self.seen:
                if now - self.missing.setdefault(following, now) < GAP_GRACE:
                    return
                self.missing.pop(following)
            self.seen.discard(following)
            self.low = following


# --- one resident ---------------------------------------------------------------------


class ResidentClient(SimulatorClient):
    """A resident's connection to the simulator, closed after each input: thousands of
    residents wait minutes between inputs, and the simulator's gunicorn need not keep
    thousands of idle connections."""

    def say(self, **what: Any) -> int:
        try:
            return super().say(**what)
        finally:
            self.connection.close()


@dataclass
class Booker:
    user_id: str
    turns: list[tuple[float, float]] = field(default_factory=list)  # (said, reply arrived)
    outcome: str = ""  # "booked" or "waitlisted" once the last reply came
    saw_full: bool = False  # the time was full when tapped: the waitlist
    filled_while_choosing: bool = False  # free in the list, full when tapped (one turn more)
    refused_at_submit: bool = False  # lost the race at 送信: alternatives and the waitlist
    error: str = ""


def postbacks(messages: list[dict]) -> list[tuple[str, str]]:
    """(label, data) of every postback action in the bot's messages (quick replies, Flex)."""
    found: list[tuple[str, str]] = []
    pending: list[Any] = list(messages)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("type") == "postback" and "data" in node:
                found.append((str(node.get("label", "")), str(node["data"])))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _pick(messages: list[dict], *fragments: str) -> tuple[str, str]:
    for label, data in postbacks(messages):
        if any(fragment in data for fragment in fragments):
            return label, data
    raise TurnFailed(f"no button with {fragments} in the bot's answer: {messages}"[:500])


class Turns:
    """One resident's inputs, each waited for until its reply arrived."""

    def __init__(self, client: ResidentClient, watcher: ReplyWatcher, booker: Booker) -> None:
        self.client, self.watcher, self.booker = client, watcher, booker

    def say(self, **what: Any) -> list[dict]:
        said = time.time()
        waiter = self.watcher.expect(self.client.user_id, self.client.say(**what))
        if not waiter.done.wait(TURN_TIMEOUT):
            raise TurnFailed(f"no answer to {what} within {TURN_TIMEOUT:.0f} s")
        self.booker.turns.append((said, waiter.arrived_at))
        return waiter.entries

    def tap(self, button: tuple[str, str]) -> list[dict]:
        label, data = button
        return self.say(postback={"data": data}, display_text=label)


def book(turns: Turns, *, keyword: str, day: str) -> None:
    """The keyword, the day, the 10:00 slot, 送信; the waitlist when it is full."""
    booker = turns.booker
    answer = turns.say(text=keyword)
    answer = turns.tap(_pick(answer, f"|d:{day}"))
    start = f"{day}T{HOUR:%H:%M}"
    answer = turns.tap(_pick(answer, f"|s:{start}", f"|w:{start}"))
    if not _has_submit(answer):  # full already, or filled since the list was shown
        booker.saw_full = True
        if not any("|rsv|w|" in data for _label, data in postbacks(answer)):
            booker.filled_while_choosing = True  # the times again, this one full now
            answer = turns.tap(_pick(answer, f"|w:{start}"))  # the waitlist prompt
        turns.tap(_pick(answer, "|rsv|w|"))
        booker.outcome = "waitlisted"
        return
    answer = turns.tap((SUBMIT_LABEL, flex_postback(answer, SUBMIT_LABEL)))
    if any(BOOKED_MARK in (message.get("text") or "") for message in answer):
        booker.outcome = "booked"
        return
    booker.refused_at_submit = True  # someone was faster: the nearest times, the waitlist
    turns.tap(_pick(answer, "|rsv|w|"))
    booker.outcome = "waitlisted"


def _has_submit(messages: list[dict]) -> bool:
    try:
        flex_postback(messages, SUBMIT_LABEL)
    except TurnFailed:
        return False
    return True


def resident_run(
    booker: Booker, *, at: float, watcher: ReplyWatcher, world: Any, port: int, day: str
) -> None:
    time.sleep(max(0.0, at - time.monotonic()))
    client = ResidentClient("127.0.0.1", port, world.channel_id, booker.user_id)
    try:
        book(Turns(client, watcher, booker), keyword=world.keyword, day=day)
    except (TurnFailed, OSError, http.client.HTTPException) as exc:
        booker.error = str(exc)[:300]
    finally:
        client.close()


def crowd(
    users: list[str], *, seconds: float, world: Any, port: int, day: str, seed: int
) -> list[Booker]:
    """Each user arrives at a random moment within ``seconds`` and books; all answered
    (or timed out) when this returns."""
    from delivery.simulator.models import SimulatorTranscriptEntry

    last = SimulatorTranscriptEntry.objects.order_by("-id").values_list("id", flat=True).first()
    watcher = ReplyWatcher(last or 0)
    watcher.start()
    moments = random.Random(seed).choices(range(1000), k=len(users))
    began = time.monotonic() + 1.0  # every thread started first
    bookers = [Booker(user) for user in users]
    threading.stack_size(512 * 1024)  # thousands of threads: their stacks are small
    threads = [
        threading.Thread(
            target=resident_run,
            args=(booker,),
            kwargs={
                **{"at": began + seconds * moment / 1000, "watcher": watcher},
                **{"world": world, "port": port, "day": day},
            },
            daemon=True,
        )
        for booker, moment in zip(bookers, moments, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watcher.stopping.set()
    watcher.join()
    return bookers
