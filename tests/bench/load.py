"""The load generator: signed webhook POSTs over keep-alive connections, for fixed seconds.

Runs in its own process (``python -m tests.bench.load`` reads a JSON config on stdin and
writes the figures as JSON on stdout), so it does not share an interpreter with the
server or the orchestrator. Every body is built and signed *before* the clock starts;
the timed loop only writes bytes and reads answers (asyncio, one coroutine per
connection, each sending its next request when the previous answer is complete). A run
stops when its seconds are up or its ``max_requests`` bodies are used, whichever is first.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

USER_NAMESPACE = uuid.UUID("0c6f2d5e-6b1a-4c1e-8f7e-2b9f4a1d3c55")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def bench_user_id(number: int) -> str:
    """A stable, valid LINE user ID ("U" + 32 hex digits) per resident number."""
    return "U" + uuid.uuid5(USER_NAMESPACE, str(number)).hex


def text_event_body(*, destination: str, event_id: str, user_id: str, text: str) -> bytes:
    """One text message event, shaped and serialized as LINE sends it."""
    event = {
        "type": "message",
        "message": {"type": "text", "id": str(secrets.randbits(60)), "text": text},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "replyToken": secrets.token_hex(16),
        "mode": "active",
    }
    payload = {"destination": destination, "events": [event]}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signed_request(*, host: str, path: str, body: bytes, secret: str) -> bytes:
    """The raw HTTP/1.1 request, with X-Line-Signature over the exact body bytes."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: LineBotWebhook/2.0\r\n"
        f"Content-Type: application/json; charset=utf-8\r\n"
        f"X-Line-Signature: {base64.b64encode(digest).decode()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def build_requests(config: dict[str, Any], count: int) -> tuple[list[bytes], str]:
    """``count`` requests, each one event with a webhookEventId never used before.

    The ids share a prefix (returned), so the caller can count what the server stored.
    """
    host = f"{config['host']}:{config['port']}"
    prefix = f"BENCH{secrets.token_hex(7)}"
    users = int(config.get("users", 200))
    requests = []
    for number in range(count):
        body = text_event_body(
            destination=config.get("destination", ""),
            event_id=f"{prefix}{number:07d}",
            user_id=bench_user_id(number % users),
            text="こんにちは",
        )
        requests.append(
            signed_request(host=host, path=config["path"], body=body, secret=config["secret"])
        )
    return requests, prefix


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    reconnects: int = 0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status code and whether the server keeps the connection open."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length, keep_alive = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            keep_alive = False
    await reader.readexactly(length)
    return status, keep_alive


async def _connection(
    config: dict[str, Any], todo: Iterator[bytes], tally: Tally, deadline: float
) -> None:
    reader, writer = await asyncio.open_connection(config["host"], config["port"])
    try:
        for raw in todo:
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            writer.write(raw)
            try:
                status, keep_alive = await _read_answer(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                status, keep_alive = 0, False
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            if not keep_alive:
                writer.close()
                tally.reconnects += 1
                reader, writer = await asyncio.open_connection(config["host"], config["port"])
    finally:
        writer.close()


async def _run(config: dict[str, Any], requests: list[bytes], seconds: float) -> dict[str, Any]:
    todo = iter(requests)  # shared: each connection takes the next request when it is free
    tally = Tally()
    started = time.perf_counter()
    connections = [
        _connection(config, todo, tally, started + seconds) for _ in range(config["concurrency"])
    ]
    await asyncio.gather(*connections)
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    return {
        "requests": len(latencies),
        "concurrency": config["concurrency"],
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
        "statuses": {str(code): n for code, n in sorted(tally.statuses.items())},
        "reconnects": tally.reconnects,
    }


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Warm up (not measured), then measure for ``seconds``; the figures as a dict.

    ``event_id_prefix`` starts every webhookEventId of the measured run.
    """
    cap = int(config["max_requests"])
    warmup_seconds = float(config.get("warmup_seconds", 0))
    if warmup_seconds:
        warmup, _ = build_requests(config, cap // 4)
        asyncio.run(_run(config, warmup, warmup_seconds))
    measured, prefix = build_requests(config, cap)
    figures = asyncio.run(_run(config, measured, float(config["seconds"])))
    return {**figures, "event_id_prefix": prefix}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
