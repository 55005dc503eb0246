"""Broadcasts of many channels at once: each channel's rate is kept across workers, and no
channel's full rate window holds a worker that another channel could use."""

import os
import threading
import time
from collections import Counter

import pytest
import time_machine
from django.db import connection
from django_scopes import scopes_disabled

from delivery.broadcasts import sending
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastChunk, BroadcastStatus, ChunkStatus
from delivery.services import line_channel_bind_simulator
from delivery.simulator.models import SimulatorApiCall, SimulatorChannel
from delivery.simulator.services import simulator_channel_configure
from govtech.celery import app as celery_app
from govtech.tenancy import tenant_scope
from tests.delivery.broadcast_world import make_friends, received
from tests.worker import celery_worker_start, celery_worker_stop, wait_until

TEXT = [{"type": "text", "text": "明日は清掃の日です"}]
A_MOMENT = "2026-12-05 09:00:00.25 +0900"  # a quarter of a second into a window


def _policy(municipality, rate: int) -> None:
    broadcasts.broadcast_policy_set(
        actor=None, municipality=municipality, approval_required=False, requests_per_second=rate
    )


def _frozen(channel, broadcaster, monkeypatch, prefix: str, count: int) -> Broadcast:
    """A started broadcast to ``count`` new friends, one chunk each, no sender enqueued."""
    monkeypatch.setattr(broadcasts, "_enqueue_chunks", lambda broadcast: None)
    friends = make_friends(channel, prefix, count)
    draft = broadcasts.broadcast_create(actor=None, channel=channel, title=prefix, items=TEXT)
    with scopes_disabled():
        Broadcast.objects.filter(pk=draft.pk).update(chunk_size=1)
    broadcast = broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)  # started (eager)
    assert _status(broadcast) == BroadcastStatus.SENDING
    broadcast.friends = friends
    return broadcast


def _status(broadcast) -> str:
    with scopes_disabled():
        return Broadcast.objects.get(pk=broadcast.pk).status


def _send_chunks(broadcast) -> sending.SenderRun:
    with tenant_scope(broadcast.municipality):
        return sending.broadcast_chunks_send(broadcast_id=broadcast.pk)


def _chunks(broadcast, **filters) -> int:
    with scopes_disabled():
        return BroadcastChunk.objects.filter(broadcast=broadcast, **filters).count()


@pytest.fixture
def two_channels(line_world, city, other_town):
    """demo-city's channel and another town's, both at 2 multicasts a second."""
    town_channel = line_channel_bind_simulator(
        actor=None, municipality=other_town, channel_id="2000000222", name="隣町公式LINE"
    )
    _policy(city, 2)
    _policy(other_town, 2)
    return line_world.channel, town_channel


@pytest.mark.slow
def test_a_sender_claims_no_more_than_its_channels_window_has_room_for(
    two_channels, broadcaster, monkeypatch
):
    city_channel, _town_channel = two_channels
    broadcast = _frozen(city_channel, broadcaster, monkeypatch, "r", 5)

    with time_machine.travel(A_MOMENT, tick=False):
        run = _send_chunks(broadcast)

    assert (run.claimed, run.more, run.backoff) == (2, False, None)
    assert run.wait == pytest.approx(0.75 + sending.WINDOW_MARGIN)
    assert _chunks(broadcast, status=ChunkStatus.SENT) == 2
    assert _chunks(broadcast, status=ChunkStatus.PENDING, attempts=0) == 3  # never claimed
    assert SimulatorApiCall.objects.filter(path__endswith="/multicast").count() == 2


@pytest.mark.slow
def test_a_channel_with_a_full_window_does_not_hold_the_worker_from_another(
    two_channels, broadcaster, monkeypatch
):
    city_channel, town_channel = two_channels
    busy = _frozen(city_channel, broadcaster, monkeypatch, "b", 4)
    waiting = _frozen(town_channel, broadcaster, monkeypatch, "w", 2)

    with time_machine.travel(A_MOMENT, tick=False):
        for _ in range(2):  # the city's other senders used up this second's window
            sending.rate_take(channel_id=city_channel.pk, per_second=2)
        started = time.monotonic()
        busy_run = _send_chunks(busy)
        waiting_run = _send_chunks(waiting)
        elapsed = time.monotonic() - started

    assert busy_run.claimed == 0 and busy_run.wait is not None  # back in the queue, no sleep
    assert _chunks(busy, status=ChunkStatus.PENDING, attempts=0) == 4
    assert waiting_run.claimed == 2
    assert set(received(waiting.friends).values()) == {1}
    assert set(received(busy.friends).values()) == {0}
    assert elapsed < 0.5  # the old sender slept until the city's next window (0.75 s)


@pytest.mark.slow
def test_a_window_filling_up_mid_batch_gives_the_untried_chunks_back(
    two_channels, broadcaster, monkeypatch
):
    city_channel, _town_channel = two_channels
    broadcast = _frozen(city_channel, broadcaster, monkeypatch, "m", 3)
    with time_machine.travel(A_MOMENT, tick=False):
        # The room was read just before another sender took a request of the window.
        monkeypatch.setattr(sending, "rate_room", lambda **kwargs: 2)
        sending.rate_take(channel_id=city_channel.pk, per_second=2)

        run = _send_chunks(broadcast)

    assert (run.claimed, run.backoff) == (1, None) and run.wait is not None
    assert _chunks(broadcast, status=ChunkStatus.SENT) == 1
    assert _chunks(broadcast, status=ChunkStatus.PENDING, attempts=0) == 2
    with tenant_scope(broadcast.municipality):
        sending.broadcast_chunks_send(broadcast_id=broadcast.pk)  # the successor, next second
        sending.broadcast_chunks_send(broadcast_id=broadcast.pk)
    with scopes_disabled():
        done = Broadcast.objects.get(pk=broadcast.pk)
    assert (done.status, done.sent_count) == (BroadcastStatus.SENT, 3)
    assert set(received(broadcast.friends).values()) == {1}


@pytest.mark.slow
def test_a_broadcast_kept_to_the_channels_rate_is_never_answered_429(two_channels, broadcaster):
    city_channel, _town_channel = two_channels
    sim = SimulatorChannel.objects.get(channel_id=city_channel.channel_id)
    simulator_channel_configure(channel=sim, rate_limits={"multicast": [2, 1]})  # as LINE's
    friends = make_friends(city_channel, "k", 5)
    draft = broadcasts.broadcast_create(actor=None, channel=city_channel, title="k", items=TEXT)
    with scopes_disabled():
        Broadcast.objects.filter(pk=draft.pk).update(chunk_size=1)

    broadcast = broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)  # eager

    assert _status(broadcast) == BroadcastStatus.SENT
    assert set(received(friends).values()) == {1}
    multicasts = SimulatorApiCall.objects.filter(path__endswith="/multicast")
    assert list(multicasts.values_list("status", flat=True)) == [200] * 5


def test_senders_per_broadcast_follow_the_channels_rate():
    assert [sending.senders_for(rate) for rate in (1, 5, 25, 26, 100, 200, 2000)] == [
        1,
        1,
        1,
        2,
        4,
        8,
        8,
    ]


@pytest.mark.redis
def test_workers_together_never_exceed_a_channels_rate_in_any_window(settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL")
    settings.REDIS_URL = os.environ["REDIS_URL"]
    channel_ids = (900_000_001 + os.getpid() % 1000, 900_100_001 + os.getpid() % 1000)
    taken: list[tuple[int, int]] = []  # (channel, second) of each request let through
    deadline = time.time() + 1.6

    def sender(channel_id: int) -> None:
        while time.time() < deadline:
            try:
                sending.rate_take(channel_id=channel_id, per_second=7)
            except sending.WindowFull:
                time.sleep(0.001)
                continue
            taken.append((channel_id, int(time.time())))

    threads = [threading.Thread(target=sender, args=(c,)) for c in channel_ids for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    per_window = Counter(taken)
    assert max(per_window.values()) == 7  # full windows, never more
    # One channel's full window takes nothing from the other's: both were let through.
    assert {channel for channel, _second in per_window} == set(channel_ids)


# --- with a real worker --------------------------------------------------------------


@pytest.fixture
def worker_towns(live_server, settings, city, other_town, transactional_db):
    if not os.environ.get("REDIS_URL") or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and REDIS_URL (make test starts both)")
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    with celery_app.connection_for_write() as conn:  # only our queue: others share Redis
        conn.default_channel.queue_purge("broadcast")
    channels = []
    for town, channel_id in ((city, "2000000333"), (other_town, "2000000444")):
        channels.append(
            line_channel_bind_simulator(
                actor=None, municipality=town, channel_id=channel_id, name=f"{town.name}公式"
            )
        )
        _policy(town, 2)
    return channels


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_small_broadcast_is_not_starved_by_a_big_one_started_before_it(
    worker_towns, live_server, broadcaster, tmp_path
):
    """One worker process, one task at a time: the big broadcast (20 chunks at 2/s, 10 s)
    is first in the queue; the small one (2 chunks, 1 s) still finishes in a few seconds.
    Before, the big broadcast's senders slept on its rate and held the worker to the end."""
    big_channel, small_channel = worker_towns
    make_friends(big_channel, "g", 20)
    make_friends(small_channel, "s", 2)
    drafts = []
    for channel in (big_channel, small_channel):
        draft = broadcasts.broadcast_create(actor=None, channel=channel, title="t", items=TEXT)
        with scopes_disabled():
            Broadcast.objects.filter(pk=draft.pk).update(chunk_size=1)
        drafts.append(draft)
    log = tmp_path / "worker.log"
    worker = celery_worker_start(live_server_url=live_server.url, queues="broadcast", log=log)
    try:
        big, small = (broadcasts.broadcast_submit(actor=None, broadcast=d) for d in drafts)
        wait_until(lambda: _status(small) == BroadcastStatus.SENT, timeout=30, log=log)
        big_status = _status(big)
        wait_until(lambda: _status(big) == BroadcastStatus.SENT, timeout=60, log=log)
    finally:
        celery_worker_stop(worker)

    assert big_status == BroadcastStatus.SENDING  # the small one did not wait for it
    with scopes_disabled():
        small, big = (Broadcast.objects.get(pk=b.pk) for b in (small, big))
    assert (small.sent_count, big.sent_count) == (2, 20)
    assert (small.finished_at - small.frozen_at).total_seconds() < 4  # its floor: 1 s
    assert (big.finished_at - big.frozen_at).total_seconds() < 20  # its floor: 10 s
