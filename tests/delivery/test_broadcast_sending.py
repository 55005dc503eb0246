"""Broadcasts reach each matching follower exactly once, in ≤500-recipient multicasts."""

import pytest
from django_scopes import scopes_disabled

from delivery.broadcasts import selectors, sending
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastChunk, BroadcastStatus, ChunkStatus
from delivery.broadcasts.tasks import broadcast_send_chunk
from delivery.models import Friend, SimulatorApiCall, SimulatorChannel
from delivery.simulator.services import simulator_channel_configure
from govtech.tenancy import tenant_scope
from tests.delivery.broadcast_world import make_friends, received

pytestmark = pytest.mark.slow
NORTH = {"match": "all", "conditions": [{"field": "area", "op": "is", "value": "north"}]}
TEXT = [{"type": "text", "text": "{municipality}から: 明日は清掃の日です"}]


@pytest.fixture
def channel(line_world, city):
    broadcasts.broadcast_policy_set(actor=None, municipality=city, approval_required=False)
    return line_world.channel


def _broadcast(channel, broadcaster, *, rules=NORTH, chunk_size=3, items=TEXT) -> Broadcast:
    broadcast = broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="清掃", items=items, rules=rules
    )
    with scopes_disabled():
        Broadcast.objects.filter(pk=broadcast.pk).update(chunk_size=chunk_size)
        broadcast.refresh_from_db()
    return broadcast


def _reload(broadcast) -> Broadcast:
    with scopes_disabled():
        return Broadcast.objects.get(pk=broadcast.pk)


def test_a_broadcast_reaches_each_matching_follower_once_and_counts_match(
    channel, city, broadcaster
):
    north = make_friends(channel, "a", 7, area="north")
    south = make_friends(channel, "b", 3, area="south")
    blocked = make_friends(channel, "c", 2, following=False, area="north")
    with tenant_scope(city):
        expected = selectors.segment_count(channel=channel, rules=NORTH)

    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )

    done = _reload(broadcast)
    assert done.status == BroadcastStatus.SENT
    assert expected == 7 == done.recipients_count == done.sent_count
    assert set(received(north).values()) == {1}
    assert set(received(south + blocked).values()) == {0}
    assert BroadcastChunk.objects.filter(broadcast=done).count() == 3  # 3 + 3 + 1
    assert SimulatorApiCall.objects.filter(path__endswith="/multicast", status=200).count() == 3


def test_personal_variables_are_sent_per_resident_once(channel, broadcaster):
    north = make_friends(channel, "d", 4, area="north")
    items = [{"type": "text", "text": "{display_name}さん、こんにちは"}]
    broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster, items=items)
    )
    assert set(received(north).values()) == {1}


def test_a_duplicated_chunk_task_sends_nothing_twice(channel, broadcaster):
    north = make_friends(channel, "e", 5, area="north")
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    for chunk in BroadcastChunk.objects.filter(broadcast=broadcast):
        assert broadcast_send_chunk.delay(chunk.pk).get() == "skipped"
    assert set(received(north).values()) == {1}


def test_a_chunk_sent_again_with_its_retry_key_is_answered_409_and_not_delivered_twice(
    channel, broadcaster
):
    north = make_friends(channel, "f", 3, area="north")
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    chunk = BroadcastChunk.objects.get(broadcast=broadcast)
    BroadcastChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.PENDING)

    assert sending.broadcast_chunk_send(chunk_id=chunk.pk) == "sent"

    assert SimulatorApiCall.objects.filter(path__endswith="/multicast", status=409).count() == 1
    assert set(received(north).values()) == {1}


def test_a_worker_dying_after_line_accepted_a_chunk_leaves_no_duplicate_and_no_gap(
    channel, broadcaster, monkeypatch
):
    north = make_friends(channel, "g", 6, area="north")
    record = sending._record
    died = []

    def die_once(chunk, status, *args, **kwargs):
        if not died:
            died.append(chunk.pk)
            raise SystemExit("worker killed")  # after LINE accepted, before the row says so
        return record(chunk, status, *args, **kwargs)

    monkeypatch.setattr(sending, "_record", die_once)
    with pytest.raises(SystemExit):
        broadcasts.broadcast_submit(actor=broadcaster, broadcast=_broadcast(channel, broadcaster))
    with scopes_disabled():
        broadcast = Broadcast.objects.get()
    assert BroadcastChunk.objects.get(pk=died[0]).status == ChunkStatus.SENDING

    for chunk_id in sending.broadcast_chunks_resume(
        broadcast_id=broadcast.pk, lease=_zero(), idle=_zero()
    ):
        sending.broadcast_chunk_send(chunk_id=chunk_id)

    assert _reload(broadcast).status == BroadcastStatus.SENT
    assert set(received(north).values()) == {1}


def _zero():
    from datetime import timedelta

    return timedelta(0)


def test_rate_limited_multicasts_are_retried_until_every_chunk_is_sent(channel, broadcaster):
    sim = SimulatorChannel.objects.get(channel_id=channel.channel_id)
    simulator_channel_configure(channel=sim, rate_limits={"multicast": [1, 1]})
    north = make_friends(channel, "h", 9, area="north")

    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )

    assert _reload(broadcast).status == BroadcastStatus.SENT
    assert SimulatorApiCall.objects.filter(path__endswith="/multicast", status=429).exists()
    assert set(received(north).values()) == {1}


def test_residents_who_unfollow_after_the_freeze_get_nothing(channel, broadcaster, monkeypatch):
    north = make_friends(channel, "i", 4, area="north")
    monkeypatch.setattr(broadcasts, "_enqueue_chunks", lambda broadcast_id: None)
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    with scopes_disabled():
        Friend.objects.filter(line_user_id=north[0]).update(is_following=False)
    for chunk in BroadcastChunk.objects.filter(broadcast=broadcast):
        sending.broadcast_chunk_send(chunk_id=chunk.pk)

    done = _reload(broadcast)
    assert received(north) == {north[0]: 0, **{uid: 1 for uid in north[1:]}}
    assert (done.recipients_count, done.sent_count, done.skipped_count) == (4, 3, 1)


def test_a_broadcast_over_the_monthly_quota_is_refused_before_sending(channel, broadcaster):
    sim = SimulatorChannel.objects.get(channel_id=channel.channel_id)
    simulator_channel_configure(channel=sim, monthly_quota=2)
    north = make_friends(channel, "j", 3, area="north")

    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )

    assert _reload(broadcast).status == BroadcastStatus.REFUSED
    assert set(received(north).values()) == {0}


def test_the_municipality_ceiling_refuses_a_broadcast_too(channel, city, broadcaster):
    broadcasts.broadcast_policy_set(actor=None, municipality=city, quota_ceiling=1)
    make_friends(channel, "k", 2, area="north")
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    assert _reload(broadcast).status == BroadcastStatus.REFUSED
