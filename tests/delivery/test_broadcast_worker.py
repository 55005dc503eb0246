"""A real Celery worker killed mid-broadcast and started again: no duplicates, no gaps."""

import os
import signal
import threading

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from delivery.broadcasts import sending
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastChunk, BroadcastStatus, ChunkStatus
from delivery.services import line_channel_bind_simulator
from govtech.celery import app as celery_app
from govtech.tenancy import tenant_scope
from tests.delivery.broadcast_world import make_friends, received
from tests.worker import celery_worker_start, celery_worker_stop, wait_until

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


def _status(broadcast) -> str:
    with scopes_disabled():
        return Broadcast.objects.get(pk=broadcast.pk).status


def _chunks(broadcast, status) -> int:
    with scopes_disabled():
        return BroadcastChunk.objects.filter(broadcast=broadcast, status=status).count()


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
    worker = celery_worker_start(live_server_url=live_server.url, queues="broadcast", log=log)
    try:
        broadcast = broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
        wait_until(lambda: _chunks(broadcast, ChunkStatus.SENT) >= 3, timeout=60, log=log)
        worker.send_signal(signal.SIGKILL)  # no warm shutdown: the task in hand is lost
        worker.wait(timeout=10)
        sent_before = _chunks(broadcast, ChunkStatus.SENT)
        assert sent_before < 10, "the worker finished before it was killed"

        worker = celery_worker_start(live_server_url=live_server.url, queues="broadcast", log=log)
        # What beat does every 10 s, with the lease of the dead worker's claim expired.
        with tenant_scope(broadcast.municipality):
            resumed = sending.broadcast_chunks_resume(
                broadcast_id=broadcast.pk, lease=sending.timedelta(0), idle=sending.timedelta(0)
            )
        if resumed:
            celery_app.send_task("delivery.tasks.broadcast_send", args=[broadcast.pk])
        wait_until(lambda: _chunks(broadcast, ChunkStatus.SENT) == 10, timeout=60, log=log)
        # The sender that finds nothing left to claim marks the broadcast sent.
        wait_until(lambda: _status(broadcast) == BroadcastStatus.SENT, timeout=30, log=log)
    finally:
        celery_worker_stop(worker)

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
    with tenant_scope(broadcast.municipality):
        assert broadcasts.broadcast_start(broadcast_id=broadcast.pk)  # frozen; no sender yet
    start = threading.Barrier(4)
    claimed: list[int] = []

    def claim() -> None:
        try:
            start.wait()
            with tenant_scope(broadcast.municipality):  # a thread starts without a scope
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
