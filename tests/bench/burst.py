"""``python -m tests.bench.burst``: one resident's burst must not hold up anyone else.

On ``make demo``'s stack (tests/bench/demo_crowd.py builds it), a signed webhook body of
``--events`` text events from one resident reaches the product, and right after it a
second resident, new to the account, says こんにちは through the simulator. Prints how
long the second resident waited for the first message of the answer (by the simulator's
own clock) and how many of the burst's events were done by then. Issue 23 asks for at
most 10 s on the embedded default.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.bench.demo_crowd import (
    CHANNEL_ID,
    ROOT,
    Resident,
    demo_env,
    demo_stack,
    free_port,
)

SECRET_OF_THE_CHANNEL = (
    "from django_scopes import scopes_disabled\n"
    "from delivery.models import LineChannel\n"
    "with scopes_disabled():\n"
    "    print(LineChannel.objects.get(channel_id='{channel}').channel_secret)\n"
)


@dataclass
class BurstFigures:
    events: int
    other_reply_seconds: float
    burst_done_when_answered: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def channel_secret(env: dict[str, str]) -> str:
    code = SECRET_OF_THE_CHANNEL.format(channel=CHANNEL_ID)
    shell = [sys.executable, "manage.py", "shell", "-c", code]
    done = subprocess.run(shell, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def burst_body(user_id: str, events: int) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "destination": "U" + "0" * 32,
            "events": [
                {
                    "type": "message",
                    "mode": "active",
                    "timestamp": now + n,
                    "source": {"type": "user", "userId": user_id},
                    "webhookEventId": f"01BURST{uuid.uuid4().hex[:19].upper()}",
                    "deliveryContext": {"isRedelivery": False},
                    "replyToken": uuid.uuid4().hex,
                    "message": {
                        "id": str(n),
                        "type": "text",
                        "quoteToken": "q",
                        "text": "こんにちは",
                    },
                }
                for n in range(events)
            ],
        },
        ensure_ascii=False,
    ).encode()


def post_signed(base: str, body: bytes, secret: str, *, channel_id: str = CHANNEL_ID) -> int:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/line/webhook/{channel_id}/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Line-Signature": signature.decode()},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return answer.status


def done_events(env: dict[str, str], user_id: str) -> int:
    code = (
        "from django_scopes import scopes_disabled\n"
        "from delivery.models import WebhookEvent\n"
        "with scopes_disabled():\n"
        f"    print(WebhookEvent.objects.filter(line_user_id='{user_id}', status='done').count())\n"
    )
    shell = [sys.executable, "manage.py", "shell", "-c", code]
    done = subprocess.run(shell, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def run_burst(*, events: int, var_dir: Path, port: int | None = None) -> BurstFigures:
    """The measurement on a fresh demo in ``var_dir``."""
    port = port or free_port()
    env = demo_env(var_dir=var_dir, port=port)
    with demo_stack(var_dir=var_dir, port=port) as base:
        sender = Resident(base, "U" + uuid.uuid4().hex)
        sender.send(text="こんにちは")  # a friend already: the burst needs no profile fetch
        assert post_signed(base, burst_body(sender.user_id, events), channel_secret(env)) == 200
        other = Resident(base, "U" + uuid.uuid4().hex)
        other.send(text="こんにちは")
        done = done_events(env, sender.user_id)
    return BurstFigures(events, other.replies[0], done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.burst", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="govtech-burst-"))
    try:
        figures = run_burst(events=args.events, var_dir=var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(figures.as_dict(), indent=2))
    return 0 if figures.other_reply_seconds <= 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
