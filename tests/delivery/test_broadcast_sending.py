"""Broadcasts reach each matching follower exactly once, in ≤500-recipient multicasts."""

import pytest
from django_scopes import scopes_disabled

from delivery.broadcasts import selectors, sending
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastChunk, BroadcastStatus, ChunkStatus
from delivery.broadcasts.tasks import broadcast_send
from delivery.line_api import LineApiError, LineClient
from delivery.models import Friend
from delivery.simulator.models import SimulatorApiCall, SimulatorChannel
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


def _send_chunks(broadcast, **kwargs) -> sending.SenderRun:
    """One sender's run, in the broadcast's scope as its task (a TenantTask) runs it."""
    with tenant_scope(broadcast.municipality):
        return sending.broadcast_chunks_send(broadcast_id=broadcast.pk, **kwargs)


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
    with tenant_scope(city):
        assert BroadcastChunk.objects.filter(broadcast=done).count() == 3  # 3 + 3 + 1
    assert SimulatorApiCall.objects.filter(path__endswith="/multicast", status=200).count() == 3


def test_personal_variables_are_sent_per_resident_once(channel, broadcaster):
    north = make_friends(channel, "d", 4, area="north")
    items = [{"type": "text", "text": "{display_name}さん、こんにちは"}]
    broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster, items=items)
    )
    assert set(received(north).values()) == {1}


def test_a_duplicated_sender_task_sends_nothing_twice(channel, broadcaster):
    north = make_friends(channel, "e", 5, area="north")
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    sender = broadcast_send.delay(broadcast.pk, municipality_id=broadcast.municipality_id)
    assert sender.get() == 0  # nothing left to claim
    assert set(received(north).values()) == {1}


def test_senders_running_side_by_side_share_the_chunks_without_overlap(
    channel, broadcaster, monkeypatch
):
    north = make_friends(channel, "s", 10, area="north")
    monkeypatch.setattr(broadcasts, "_enqueue_chunks", lambda broadcast_id: None)
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster, chunk_size=2)
    )

    first = _send_chunks(broadcast, budget=2)
    second = _send_chunks(broadcast, budget=2)
    assert (first.claimed, first.more, second.claimed, second.more) == (2, True, 2, True)
    assert _reload(broadcast).status == BroadcastStatus.SENDING
    last = _send_chunks(broadcast)

    assert (last.claimed, last.more) == (1, False)
    assert _reload(broadcast).status == BroadcastStatus.SENT
    assert set(received(north).values()) == {1}


def test_a_chunk_sent_again_with_its_retry_key_is_answered_409_and_not_delivered_twice(
    channel, city, broadcaster
):
    north = make_friends(channel, "f", 3, area="north")
    broadcast = broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster)
    )
    with tenant_scope(city):
        chunk = BroadcastChunk.objects.get(broadcast=broadcast)
        BroadcastChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.PENDING)
        Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)

    assert _send_chunks(broadcast).claimed == 1

    with tenant_scope(city):
        assert BroadcastChunk.objects.get(pk=chunk.pk).status == ChunkStatus.SENT

    assert SimulatorApiCall.objects.filter(path__endswith="/multicast", status=409).count() == 1
    assert set(received(north).values()) == {1}


def test_a_worker_dying_after_line_accepted_a_chunk_leaves_no_duplicate_and_no_gap(
    channel, city, broadcaster, monkeypatch
):
    north = make_friends(channel, "g", 6, area="north")
    record = sending._record
    died = []

    def die_once(chunks):
        if not died:
            died.extend(chunk.pk for chunk in chunks)
            raise SystemExit("worker killed")  # after LINE accepted, before the rows say so
        return record(chunks)

    monkeypatch.setattr(sending, "_record", die_once)
    with pytest.raises(SystemExit):
        broadcasts.broadcast_submit(actor=broadcaster, broadcast=_broadcast(channel, broadcaster))
    with tenant_scope(city):
        broadcast = Broadcast.objects.get()
        assert BroadcastChunk.objects.get(pk=died[0]).status == ChunkStatus.SENDING
        assert sending.broadcast_chunks_resume(
            broadcast_id=broadcast.pk, lease=_zero(), idle=_zero()
        )
    _send_chunks(broadcast)

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
    _send_chunks(broadcast)

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


def test_an_urgent_alert_is_held_back_by_lines_quota_only(channel, city, admin_user):
    broadcasts.broadcast_policy_set(actor=None, municipality=city, quota_ceiling=1)
    north = make_friends(channel, "u", 2, area="north")
    alert = broadcasts.broadcast_send_now(
        actor=admin_user, channel=channel, title="避難指示", items=TEXT, rules=NORTH, reason="test"
    )
    assert _reload(alert).status != BroadcastStatus.REFUSED  # over the city's own ceiling
    assert set(received(north).values()) == {1}

    sim = SimulatorChannel.objects.get(channel_id=channel.channel_id)
    simulator_channel_configure(channel=sim, monthly_quota=1)  # LINE's quota still holds
    again = broadcasts.broadcast_send_now(
        actor=admin_user, channel=channel, title="避難指示", items=TEXT, rules=NORTH, reason="test"
    )
    assert _reload(again).status == BroadcastStatus.REFUSED


def _frozen(channel, broadcaster, monkeypatch, prefix: str, count: int, **kwargs) -> Broadcast:
    """A broadcast frozen into chunks that no sender has touched yet."""
    monkeypatch.setattr(broadcasts, "_enqueue_chunks", lambda broadcast_id: None)
    make_friends(channel, prefix, count, area="north")
    return broadcasts.broadcast_submit(
        actor=broadcaster, broadcast=_broadcast(channel, broadcaster, **kwargs)
    )


def _line_down_once(monkeypatch):
    """The next multicast fails as LINE being unavailable (after the client's retries)."""
    multicast = LineClient.multicast
    calls = []

    def down_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise LineApiError(503, "unavailable", retryable=True)
        return multicast(self, *args, **kwargs)

    monkeypatch.setattr(LineClient, "multicast", down_once)


def test_a_transient_error_puts_the_chunk_back_and_the_sender_backs_off(
    channel, city, broadcaster, monkeypatch
):
    broadcast = _frozen(channel, broadcaster, monkeypatch, "t", 9)
    _line_down_once(monkeypatch)

    run = _send_chunks(broadcast)

    assert run.backoff == 2 and not run.more
    with tenant_scope(city):
        chunks = BroadcastChunk.objects.filter(broadcast=broadcast)
        assert {c.status for c in chunks} == {ChunkStatus.PENDING}
        tried = chunks.get(attempts=1)  # the others were not tried: their attempt given back
        assert "503" in tried.error
        assert chunks.filter(attempts=0).count() == 2
    _send_chunks(broadcast)  # the successor, later
    assert _reload(broadcast).sent_count == 9


def test_a_chunk_still_failing_after_its_last_attempt_is_failed_with_the_error(
    channel, city, broadcaster, monkeypatch
):
    broadcast = _frozen(channel, broadcaster, monkeypatch, "u", 6)
    chunks = BroadcastChunk.objects.with_scope(municipality=city)
    chunks.filter(broadcast=broadcast).update(attempts=sending.MAX_ATTEMPTS - 1)
    _line_down_once(monkeypatch)

    run = _send_chunks(broadcast)

    assert run.backoff is None
    failed = chunks.get(broadcast=broadcast, status=ChunkStatus.FAILED)
    assert failed.attempts == sending.MAX_ATTEMPTS
    assert "503" in failed.error
    done = _reload(broadcast)
    assert (done.status, done.sent_count, done.failed_count) == (BroadcastStatus.SENT, 3, 3)


def test_a_sender_task_under_another_municipalitys_id_sends_nothing(
    channel, city, other_town, broadcaster, monkeypatch
):
    north = make_friends(channel, "o", 3, area="north")
    broadcast = _frozen(channel, broadcaster, monkeypatch, "p", 0)

    assert broadcast_send(broadcast.pk, municipality_id=other_town.pk) == 0

    assert _reload(broadcast).status == BroadcastStatus.SENDING
    with tenant_scope(city):
        chunks = BroadcastChunk.objects.filter(broadcast=broadcast)
        assert {chunk.status for chunk in chunks} == {ChunkStatus.PENDING}
    assert set(received(north).values()) == {0}


def test_a_broadcast_whose_senders_are_at_work_gets_no_extra_ones(
    channel, city, broadcaster, monkeypatch
):
    broadcast = _frozen(channel, broadcaster, monkeypatch, "v", 9)
    _send_chunks(broadcast, budget=1)  # a chunk just claimed

    with tenant_scope(city):  # as beat runs it
        assert not sending.broadcast_chunks_resume(broadcast_id=broadcast.pk)
        assert sending.broadcast_chunks_resume(broadcast_id=broadcast.pk, idle=_zero())
        assert not sending.broadcast_chunks_resume(broadcast_id=broadcast.pk)  # just given some
