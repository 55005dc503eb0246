"""A real Celery worker killed mid-broadcast and started again: no duplicates, no gaps."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from delivery.broadcasts import sending
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastChunk, BroadcastStatus, ChunkStatus
from delivery.services import line_channel_bind_simulator
from govtech.celery import app as celery_app
from tests.delivery.broadcast_world import make_friends, received

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def worker_world(live_server, settings, city, transactional_db):
    if not os.environ.get("REDIS_URL") or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and REDIS_URL (make test starts both)")
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    with celery_app.connection_for_write() as conn:  # only our queue: others share Redis
        conn.default_channel.queue_purge("broadcast")
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id="2000000111", name="デモ市公式LINE"
    )
    broadcasts.broadcast_policy_set(
        actor=None, municipality=city, approval_required=False, requests_per_second=2
    )
    return channel


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_worker(live_server_url: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="govtech.settings",
        GOVTECH_ENV="local",
        DATABASE_URL=_database_url(),
        LINE_API_BASE_URL=f"{live_server_url}/simulator/api/line",
    )
    command = [sys.executable, "-m", "celery", "-A", "govtech", "worker", "-Q", "broadcast"]
    command += ["--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    with log.open("a") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _status(broadcast) -> str:
    with scopes_disabled():
        return Broadcast.objects.get(pk=broadcast.pk).status


def _chunks(broadcast, status) -> int:
    return BroadcastChunk.objects.filter(broadcast=broadcast, status=status).count()


def _wait(condition, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out; worker log:\n" + log.read_text()[-3000:])
        time.sleep(0.2)


def test_a_worker_killed_mid_broadcast_and_restarted_sends_each_message_once(
    worker_world, live_server, broadcaster, tmp_path
):
    residents = make_friends(worker_world, "w", 40, area="north")
    rules = {"match": "all", "conditions": [{"field": "area", "op": "is", "value": "north"}]}
    draft = broadcasts.broadcast_create(
        actor=broadcaster,
        channel=worker_world,
        title="清掃",
        items=[{"type": "text", "text": "明日は清掃の日です"}],
        rules=rules,
    )
    with scopes_disabled():
        Broadcast.objects.filter(pk=draft.pk).update(chunk_size=4)  # 10 chunks at 2/s
    log = tmp_path / "worker.log"
    worker = _start_worker(live_server.url, log)
    try:
        broadcast = broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
        _wait(lambda: _chunks(broadcast, ChunkStatus.SENT) >= 3, 60, log)
        worker.send_signal(signal.SIGKILL)  # no warm shutdown: the task in hand is lost
        worker.wait(timeout=10)
        sent_before = _chunks(broadcast, ChunkStatus.SENT)
        assert sent_before < 10, "the worker finished before it was killed"

        worker = _start_worker(live_server.url, log)
        # What beat does every 10 s, with the lease of the dead worker's claim expired.
        if sending.broadcast_chunks_resume(
            broadcast_id=broadcast.pk, lease=sending.timedelta(0), idle=sending.timedelta(0)
        ):
            celery_app.send_task("delivery.tasks.broadcast_send", args=[broadcast.pk])
        _wait(lambda: _chunks(broadcast, ChunkStatus.SENT) == 10, 60, log)
        # The sender that finds nothing left to claim marks the broadcast sent.
        _wait(lambda: _status(broadcast) == BroadcastStatus.SENT, 30, log)
    finally:
        worker.kill()
        worker.wait(timeout=10)

    with scopes_disabled():
        done = Broadcast.objects.get(pk=broadcast.pk)
    assert done.status == BroadcastStatus.SENT
    assert (done.recipients_count, done.sent_count) == (40, 40)
    assert set(received(residents).values()) == {1}


def test_senders_claiming_at_the_same_moment_never_take_the_same_chunk(
    worker_world, broadcaster, monkeypatch
):
    channel = worker_world
    monkeypatch.setattr(broadcasts, "_enqueue_chunks", lambda broadcast_id: None)
    make_friends(channel, "x", 40, area="north")
    draft = broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="清掃", items=[{"type": "text", "text": "明日"}]
    )
    with scopes_disabled():
        Broadcast.objects.filter(pk=draft.pk).update(chunk_size=1)  # 40 chunks
    broadcast = broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    assert broadcasts.broadcast_start(broadcast_id=broadcast.pk)  # frozen; no sender yet
    start = threading.Barrier(4)
    claimed: list[int] = []

    def claim() -> None:
        try:
            start.wait()
            for _ in range(5):
                claimed.extend(chunk.pk for chunk in sending._claim(broadcast.pk, 2))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(claimed) == len(set(claimed)) == 40
    assert _chunks(broadcast, ChunkStatus.SENDING) == 40
