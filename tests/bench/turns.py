"""End-to-end conversation turns: residents talk through the simulator, a worker answers.

A turn is one thing a resident does (``POST /simulator/api/say/`` → signed webhook →
``engine`` queue → Celery worker → reply through the emulated Messaging API) until the
bot's answer is in the resident's transcript. Each resident runs the same short
application in its own thread: follow, keyword, name, choice, 送信 — five turns.

Answers are watched by one thread that reads the simulator's transcript table every few
milliseconds for all waiting residents at once; a poll per resident over HTTP would
cost the two cores more than the conversations themselves.
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

WATCH_INTERVAL = 0.01  # adds ~5 ms on average to a turn; turns take hundreds
TURN_TIMEOUT = 60.0


class TurnFailed(Exception):
    pass


@dataclass
class Waiter:
    after: int
    done: threading.Event = field(default_factory=threading.Event)
    entries: list[dict] = field(default_factory=list)
    seen_at: float = 0.0


class TranscriptWatcher(threading.Thread):
    """Hands each waiting resident the bot's messages that came after their own."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(name="transcript-watcher", daemon=True)
        self.channel_id = channel_id
        self.waiting: dict[str, Waiter] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

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
        ).values_list("id", "user__user_id", "message")
        now = time.perf_counter()
        arrived: dict[str, list[dict]] = {}
        for entry_id, user_id, message in rows.order_by("id"):
            if entry_id > waiting[user_id].after:
                arrived.setdefault(user_id, []).append(message)
        with self.lock:
            for user_id, messages in arrived.items():
                if self.waiting.get(user_id) is waiting[user_id]:
                    del self.waiting[user_id]
                    waiter = waiting[user_id]
                    waiter.entries, waiter.seen_at = messages, now
                    waiter.done.set()


class SimulatorClient:
    """One resident's keep-alive connection to the simulator's JSON API."""

    def __init__(self, host: str, port: int, channel_id: str, user_id: str) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.channel_id, self.user_id = channel_id, user_id

    def say(self, **what: Any) -> int:
        """Send one input; the id of its transcript entry."""
        body = {"channel_id": self.channel_id, "user_id": self.user_id, **what}
        self.connection.request(
            "POST",
            "/simulator/api/say/",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        response = self.connection.getresponse()
        answer = json.loads(response.read() or b"{}")
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
    turns: list[tuple[float, float]] = field(default_factory=list)  # (said, answer seen)
    reference_seen: bool = False
    error: str = ""


def converse(client: SimulatorClient, watcher: TranscriptWatcher) -> Conversation:
    """Follow, then the bench application to its reference number."""
    result = Conversation()
    inputs: list[dict[str, Any]] = [
        {"follow": True},
        {"text": KEYWORD},
        {"text": NAME_ANSWER},
        {"text": CHOICE_ANSWER},
    ]
    answer: list[dict] = []
    try:
        for what in [*inputs, None]:
            if what is None:  # the confirmation's 送信 button
                what = {"postback": {"data": flex_postback(answer, "送信")}, "display_text": "送信"}
            said = time.perf_counter()
            waiter = watcher.expect(client.user_id, client.say(**what))
            if not waiter.done.wait(TURN_TIMEOUT):
                raise TurnFailed(f"no answer to {what} within {TURN_TIMEOUT:.0f} s")
            answer = waiter.entries
            result.turns.append((said, waiter.seen_at))
        result.reference_seen = any("受付番号" in (m.get("text") or "") for m in answer)
    except (TurnFailed, OSError, http.client.HTTPException) as exc:
        result.error = str(exc)
    finally:
        client.close()
    return result


def run_conversations(*, host: str, port: int, channel_id: str, residents: int) -> dict:
    """``residents`` conversations at once; turns per second from first say to last answer."""
    watcher = TranscriptWatcher(channel_id)
    watcher.start()
    results: list[Conversation] = []
    start = threading.Barrier(residents)

    def resident() -> None:
        client = SimulatorClient(host, port, channel_id, "U" + uuid.uuid4().hex)
        start.wait()
        results.append(converse(client, watcher))

    threads = [threading.Thread(target=resident) for _ in range(residents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watcher.stopping.set()
    watcher.join()
    return conversation_figures(results)


def conversation_figures(results: list[Conversation]) -> dict:
    turns = [turn for result in results for turn in result.turns]
    latencies = sorted(seen - said for said, seen in turns)
    elapsed = (max(s for _, s in turns) - min(s for s, _ in turns)) if turns else 0.0
    return {
        "residents": len(results),
        "turns": len(turns),
        "seconds": round(elapsed, 3),
        "turns_per_s": round(len(turns) / elapsed, 1) if elapsed else 0.0,
        "turn_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "turn_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "completed": sum(r.reference_seen for r in results),
        "errors": [r.error for r in results if r.error],
    }
