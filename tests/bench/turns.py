"""End-to-end conversation turns: residents talk through the simulator, a worker answers.

A turn is one thing a resident does (``POST /simulator/api/say/`` → signed webhook →
``engine`` queue → Celery worker → reply through the emulated Messaging API) until the
bot's answer is in the resident's transcript. Each resident runs the same short
application in its own thread, ``rounds`` times: follow (first round only), keyword,
name, choice, 送信 — five turns, then four per further round.

A turn's latency runs from the moment the resident's thread sends its input to the
moment the emulated Messaging API received the bot's reply: the ``at`` of the reply's
transcript rows, which the simulator stamps when the reply request arrives (the same
machine's clock) — not the webhook's 200, and not when the bench happened to look.
Answers are watched by one thread that reads the simulator's transcript table every
few tens of milliseconds for all waiting residents at once; a poll per resident over
HTTP would cost the two cores more than the conversations themselves. Its interval
delays the next input, never the figure.
"""

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from delivery.simulator.models import SimulatorTranscriptEntry
from tests.bench.load import percentile
from tests.bench.world import CHOICE_ANSWER, KEYWORD, NAME_ANSWER

WATCH_INTERVAL = 0.02  # delays the resident's next input, not the measured latency
TURN_TIMEOUT = 60.0


class TurnFailed(Exception):
    pass


@dataclass
class Waiter:
    after: int
    done: threading.Event = field(default_factory=threading.Event)
    entries: list[dict] = field(default_factory=list)
    arrived_at: float = 0.0  # wall clock: when the emulated API received the reply


class TranscriptWatcher(threading.Thread):
    """Hands each waiting resident the bot's messages that came after their own."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(name="transcript-watcher", daemon=True)
        self.channel_id = channel_id
        self.waiting: dict[str, Waiter] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.polls = 0  # one query (one transaction) each

    def expect(self, user_id: str, after: int) -> Waiter:
        waiter = Waiter(after=after)
        with self.lock:
            self.waiting[user_id] = waiter
        return waiter

    def run(self) -> None:
        try:
            while not self.stopping.wait(WATCH_INTERVAL):
                with self.lock:
                    waiting = dict(self.waiting)
                if waiting:
                    self.polls += 1
                    self._deliver(waiting)
        finally:
            connection.close()

    def _deliver(self, waiting: dict[str, Waiter]) -> None:
        # The bot's messages of one reply are inserted together, so they appear together.
        rows = SimulatorTranscriptEntry.objects.filter(
            channel__channel_id=self.channel_id,
            direction=SimulatorTranscriptEntry.Direction.OUT,
            user__user_id__in=list(waiting),
            id__gt=min(w.after for w in waiting.values()),
        ).values_list("id", "user__user_id", "message", "at")
        arrived: dict[str, list[dict]] = {}
        arrived_at: dict[str, float] = {}
        for entry_id, user_id, message, at in rows.order_by("id"):
            if entry_id > waiting[user_id].after:
                arrived.setdefault(user_id, []).append(message)
                arrived_at.setdefault(user_id, at.timestamp())
        with self.lock:
            for user_id, messages in arrived.items():
                if self.waiting.get(user_id) is waiting[user_id]:
                    del self.waiting[user_id]
                    waiter = waiting[user_id]
                    waiter.entries, waiter.arrived_at = messages, arrived_at[user_id]
                    waiter.done.set()


class SimulatorClient:
    """One resident's keep-alive connection to the simulator's JSON API.

    gunicorn closes a connection idle for its keep-alive seconds (5); a resident waiting
    longer for an answer would write into a closed socket. So a connection idle for
    ``FRESH_AFTER`` seconds is replaced before the next input — never an input sent twice.
    """

    FRESH_AFTER = 3.0

    def __init__(self, host: str, port: int, channel_id: str, user_id: str) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.channel_id, self.user_id = channel_id, user_id
        self.used_at = time.monotonic()

    def say(self, **what: Any) -> int:
        """Send one input; the id of its transcript entry."""
        if time.monotonic() - self.used_at > self.FRESH_AFTER:
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        body = {"channel_id": self.channel_id, "user_id": self.user_id, **what}
        self.connection.request(
            "POST",
            "/simulator/api/say/",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        response = self.connection.getresponse()
        answer = json.loads(response.read() or b"{}")
        self.used_at = time.monotonic()
        if response.status != 200 or answer.get("webhook_status") != 200:
            raise TurnFailed(f"say answered {response.status}: {answer}")
        return int(answer["id"])

    def close(self) -> None:
        self.connection.close()


def flex_postback(messages: list[dict], label: str) -> str:
    """The postback data of the Flex button with this label."""
    stack: list[Any] = [m.get("contents") for m in messages if m.get("type") == "flex"]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            action = node.get("action") or {}
            if node.get("type") == "button" and action.get("label") == label:
                return str(action["data"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise TurnFailed(f"no Flex button {label!r} in the bot's answer")


@dataclass
class Conversation:
    turns: list[tuple[float, float]] = field(default_factory=list)  # (said, reply arrived)
    references_seen: int = 0
    error: str = ""


def converse(client: SimulatorClient, watcher: TranscriptWatcher, rounds: int) -> Conversation:
    """Follow, then the bench application to its reference number, ``rounds`` times."""
    result = Conversation()
    answer: list[dict] = []
    try:
        for number in range(rounds):
            inputs: list[dict[str, Any] | None] = [{"follow": True}] if number == 0 else []
            inputs += [{"text": KEYWORD}, {"text": NAME_ANSWER}, {"text": CHOICE_ANSWER}, None]
            for what in inputs:
                if what is None:  # the confirmation's 送信 button
                    data = flex_postback(answer, "送信")
                    what = {"postback": {"data": data}, "display_text": "送信"}
                said = time.time()
                waiter = watcher.expect(client.user_id, client.say(**what))
                if not waiter.done.wait(TURN_TIMEOUT):
                    raise TurnFailed(f"no answer to {what} within {TURN_TIMEOUT:.0f} s")
                answer = waiter.entries
                result.turns.append((said, waiter.arrived_at))
            if any("受付番号" in (m.get("text") or "") for m in answer):
                result.references_seen += 1
    except (TurnFailed, OSError, http.client.HTTPException) as exc:
        result.error = str(exc)
    finally:
        client.close()
    return result


def run_conversations(
    *, host: str, port: int, channel_id: str, residents: int, rounds: int = 1
) -> dict:
    """``residents`` conversations at once, ``rounds`` applications each; turns per
    second from the first input to the last reply's arrival."""
    watcher = TranscriptWatcher(channel_id)
    watcher.start()
    results: list[Conversation] = []
    start = threading.Barrier(residents)

    def resident() -> None:
        client = SimulatorClient(host, port, channel_id, "U" + uuid.uuid4().hex)
        start.wait()
        results.append(converse(client, watcher, rounds))

    threads = [threading.Thread(target=resident) for _ in range(residents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watcher.stopping.set()
    watcher.join()
    return {**conversation_figures(results, rounds), "watcher_queries": watcher.polls}


def conversation_figures(results: list[Conversation], rounds: int = 1) -> dict:
    turns = [turn for result in results for turn in result.turns]
    latencies = sorted(max(arrived - said, 0.0) for said, arrived in turns)
    elapsed = (max(a for _, a in turns) - min(s for s, _ in turns)) if turns else 0.0
    return {
        "residents": len(results),
        "rounds": rounds,
        "turns": len(turns),
        "seconds": round(elapsed, 3),
        "turns_per_s": round(len(turns) / elapsed, 1) if elapsed else 0.0,
        "turn_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "turn_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "turn_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "turn_max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
        "completed": sum(r.references_seen == rounds for r in results),
        "applications": sum(r.references_seen for r in results),
        "errors": [r.error for r in results if r.error],
    }
