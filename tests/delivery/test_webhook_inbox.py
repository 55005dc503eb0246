"""The Redis inbox: acknowledged bodies wait in a list and are stored once, in order.

What LINE sees is the same as with the database inbox (tests/delivery/test_webhook.py runs
every webhook test with both); these tests are about the list itself: queuing, one store
task for a burst, a store that crashed half-way, a lost task, Redis going away.
"""

import json

import pytest
import redis
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery import inbox
from delivery.models import WebhookEvent
from delivery.services import line_channel_create
from delivery.tasks import process_stale_events, store_webhook_inbox
from tests.delivery.test_webhook import CHANNEL_ID, SECRET, sign, text_event

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture(autouse=True)
def redis_inbox(settings, monkeypatch):
    if not settings.REDIS_URL:
        pytest.skip("the Redis inbox needs REDIS_URL (make test sets it)")
    settings.LINE_WEBHOOK_INBOX = "redis"
    monkeypatch.setattr(inbox, "STORE_LINGER", 0.02)


@pytest.fixture
def channel(city):
    return line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id=CHANNEL_ID,
        channel_secret=SECRET,
        access_token="token",
    )


@pytest.fixture
def store_tasks(monkeypatch):
    """Store tasks the webhook publishes (not run)."""
    calls = []
    monkeypatch.setattr(store_webhook_inbox, "delay", lambda: calls.append(1))
    return calls


@pytest.fixture
def processing(monkeypatch):
    from delivery.tasks import process_resident_events

    calls = []
    monkeypatch.setattr(process_resident_events, "delay", lambda *args: calls.append(args))
    return calls


def send(client, *events):
    body = json.dumps({"destination": "Ubot", "events": list(events)}).encode()
    return client.post(
        reverse("line-webhook", args=[CHANNEL_ID]),
        body,
        content_type="application/json",
        headers={"X-Line-Signature": sign(body)},
    )


def stored_ids() -> list[str]:
    with scopes_disabled():
        return list(WebhookEvent.objects.order_by("pk").values_list("webhook_event_id", flat=True))


def test_an_acknowledged_body_waits_in_the_list_until_the_store_task_runs(
    client, channel, store_tasks, processing
):
    response = send(client, text_event(1), text_event(2))
    assert response.status_code == 200
    assert response.json() == {"received": 2, "inbox": "queued"}
    assert stored_ids() == [] and inbox.inbox_length() == 1
    assert inbox.inbox_store() == (2, False)
    assert stored_ids() == [text_event(1)["webhookEventId"], text_event(2)["webhookEventId"]]
    assert inbox.inbox_length() == 0
    assert processing == [(channel.pk, "U" + "a" * 32)]  # one task for the resident


def test_a_burst_publishes_one_store_task_until_it_is_done(client, channel, store_tasks):
    for n in range(5):
        send(client, text_event(n))
    assert len(store_tasks) == 1
    inbox.inbox_store()  # clears the flag when it stops
    send(client, text_event(9))
    assert len(store_tasks) == 2
    assert len(stored_ids()) == 5  # the sixth waits for the second task


def test_bodies_arriving_while_the_task_stores_publish_no_more_tasks(
    client, channel, store_tasks, monkeypatch
):
    send(client, text_event(1))
    real_store_batch, arriving = inbox._store_batch, [2, 3]

    def store_while_residents_write(client_, items):
        if arriving:  # a webhook request in the middle of the drain
            send(client, text_event(arriving.pop(0)))
        return real_store_batch(client_, items)

    monkeypatch.setattr(inbox, "_store_batch", store_while_residents_write)
    assert inbox.inbox_store() == (3, False)
    assert len(store_tasks) == 1  # the flag stayed set while the task was at work


def test_bodies_are_stored_in_arrival_order_across_batches(
    client, channel, store_tasks, monkeypatch
):
    monkeypatch.setattr(inbox, "STORE_BATCH", 3)
    events = [text_event(n, user=f"U{n % 4:032d}") for n in range(10)]
    for event in events:
        send(client, event)
    assert inbox.inbox_store() == (10, False)
    assert stored_ids() == [event["webhookEventId"] for event in events]


def test_a_store_that_died_before_trimming_is_not_stored_twice(
    client, channel, store_tasks, processing, monkeypatch
):
    send(client, text_event(1))
    send(client, text_event(2), text_event(3))

    def crash(*args, **kwargs):
        raise redis.ConnectionError("worker killed")

    monkeypatch.setattr(redis.Redis, "ltrim", crash)
    with pytest.raises(redis.ConnectionError):
        inbox.inbox_store()
    assert len(stored_ids()) == 3 and inbox.inbox_length() == 2  # stored, not trimmed
    monkeypatch.undo()
    monkeypatch.setattr(store_webhook_inbox, "delay", lambda: None)
    assert inbox.inbox_store() == (0, False)  # the repeat finds every event known
    assert len(stored_ids()) == 3 and inbox.inbox_length() == 0


def test_a_second_consumer_leaves_the_work_to_the_first(client, channel, store_tasks):
    send(client, text_event(1))
    lock = inbox._redis().lock(inbox.STORE_LOCK_KEY, timeout=5)
    assert lock.acquire()
    try:
        assert inbox.inbox_store() == (0, False)  # at once: no worker sits on a lock
        assert inbox.inbox_length() == 1
    finally:
        lock.release()
    assert inbox.inbox_store() == (1, False)


def test_a_body_appended_while_the_consumer_finishes_is_not_left_behind(
    client, channel, store_tasks, monkeypatch
):
    """The holder looks at the list again after releasing: a body appended before the
    flag was cleared published no task, and one that found the lock taken left its body
    to the holder."""
    send(client, text_event(1))
    real_release, late = inbox._release, [text_event(2)]

    def release_after_a_late_body(lock):
        if late:  # appended after the last read, before the release
            body = json.dumps({"events": [late.pop()]}).encode()
            inbox._redis().rpush(inbox.INBOX_KEY, CHANNEL_ID.encode() + b":" + body)
        real_release(lock)

    monkeypatch.setattr(inbox, "_release", release_after_a_late_body)
    assert inbox.inbox_store() == (2, False)
    assert inbox.inbox_length() == 0


def test_a_lost_store_task_is_covered_by_the_beat(client, channel, store_tasks, processing):
    send(client, text_event(1))
    assert stored_ids() == []
    process_stale_events()
    assert stored_ids() == [text_event(1)["webhookEventId"]]
    assert processing == [(channel.pk, "U" + "a" * 32)]


def test_a_store_task_that_runs_out_of_time_publishes_its_successor(
    client, channel, store_tasks, monkeypatch
):
    monkeypatch.setattr(inbox, "STORE_BATCH", 1)
    for n in range(3):
        send(client, text_event(n))
    store_tasks.clear()
    real_store = inbox.inbox_store
    monkeypatch.setattr(
        "delivery.tasks.inbox_store", lambda **kwargs: real_store(max_seconds=0, **kwargs)
    )
    assert store_webhook_inbox.apply().get() == 1
    assert store_tasks == [1] and inbox.inbox_length() == 2


def test_without_redis_the_webhook_stores_in_the_database(client, channel, monkeypatch):
    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(inbox, "_inbox_push", unreachable)
    response = send(client, text_event(1))
    assert response.status_code == 200
    assert response.json()["inbox"] == "stored"
    assert stored_ids() == [text_event(1)["webhookEventId"]]


def test_a_body_for_a_deleted_channel_is_dropped_not_retried(client, channel, store_tasks):
    send(client, text_event(1))
    channel.delete()
    assert inbox.inbox_store() == (0, False)
    assert inbox.inbox_length() == 0


def test_healthz_shows_the_bodies_waiting_and_degrades_on_a_backlog(
    client, channel, store_tasks, monkeypatch
):
    send(client, text_event(1))
    check = client.get(reverse("healthz")).json()["checks"]["webhook_inbox"]
    assert check == {"status": "ok", "kind": "redis", "waiting": 1, "set_aside": 0}
    monkeypatch.setattr(inbox, "INBOX_BACKLOG_WARNING", 1)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


def test_a_body_the_database_refuses_is_set_aside_and_the_rest_is_stored(
    client, channel, store_tasks, processing, monkeypatch
):
    from django.db import DataError

    real_insert = inbox._insert_new

    def refuse_event_2(channel, rows):
        if any(row[0] == text_event(2)["webhookEventId"] for row in rows):
            raise DataError("value too long")
        return real_insert(channel, rows)

    monkeypatch.setattr(inbox, "_insert_new", refuse_event_2)
    for n in (1, 2, 3):
        send(client, text_event(n))
    assert inbox.inbox_store() == (2, False)
    assert stored_ids() == [text_event(1)["webhookEventId"], text_event(3)["webhookEventId"]]
    assert inbox.inbox_length() == 0
    assert inbox.inbox_length(key=inbox.SET_ASIDE_KEY) == 1
    check = client.get(reverse("healthz")).json()["checks"]["webhook_inbox"]
    assert check["status"] == "stale" and check["set_aside"] == 1


def test_a_database_outage_keeps_the_batch_for_the_next_attempt(
    client, channel, store_tasks, processing, monkeypatch
):
    from django.db import OperationalError

    def down(channel, rows):
        raise OperationalError("server closed the connection unexpectedly")

    send(client, text_event(1))
    monkeypatch.setattr(inbox, "_insert_new", down)
    with pytest.raises(OperationalError):
        inbox.inbox_store()
    assert inbox.inbox_length() == 1
    assert inbox.inbox_length(key=inbox.SET_ASIDE_KEY) == 0
    monkeypatch.undo()
    monkeypatch.setattr(store_webhook_inbox, "delay", lambda: None)
    assert inbox.inbox_store() == (1, False)
