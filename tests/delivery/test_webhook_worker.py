"""The production path of a resident's message, with a real Celery worker.

Simulator → signed webhook → Redis inbox → ``store_webhook_inbox`` → per-resident
processing → the real SDK client → the emulated Messaging API. No task runs in the test
process: what the residents receive was stored and answered by the worker.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from delivery import inbox
from delivery.models import WebhookEvent
from delivery.services import line_channel_bind_simulator
from govtech.celery import app as celery_app
from procedures.models import Conversation, Submission
from procedures.services import procedure_create, procedure_publish
from tests.delivery.line_world import SimResident
from tests.delivery.test_line_delivery import nineteen_questions
from tests.delivery.test_webhook import sign, text_event
from tests.procedures.docs import pet_registration
from tests.worker import celery_worker_start, celery_worker_stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

CHANNEL_ID = "2000000121"


@pytest.fixture
def redis_world(live_server, settings, city, designer, transactional_db, tmp_path):
    """demo-city on a simulator channel, the Redis inbox, and a worker on inbox + engine."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and REDIS_URL (make test starts both)")
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    settings.LINE_WEBHOOK_INBOX = "redis"
    with celery_app.connection_for_write() as conn:  # only our queues: others share Redis
        for queue in ("inbox", "engine"):
            conn.default_channel.queue_purge(queue)
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id=CHANNEL_ID, name="デモ市公式LINE"
    )
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    log = tmp_path / "worker.log"
    worker = celery_worker_start(
        live_server_url=live_server.url, queues="inbox,engine", log=log, concurrency=2
    )
    try:
        yield channel, log
    finally:
        celery_worker_stop(worker)


def _asked_for_the_owner(resident: SimResident) -> bool:
    sent = [entry["message"] for entry in resident.transcript() if entry["direction"] == "out"]
    return any("飼い主の氏名" in message.get("text", "") for message in sent)


def test_a_burst_across_200_residents_loses_nothing(redis_world, live_server):
    _channel, log = redis_world
    residents = [SimResident(live_server.url, CHANNEL_ID, f"U{n:032x}") for n in range(1, 201)]
    with ThreadPoolExecutor(max_workers=16) as pool:  # the live server's backlog is small
        list(pool.map(lambda resident: resident.say("犬の届出"), residents))

    waiting = list(residents)

    def everybody_asked() -> bool:
        waiting[:] = [resident for resident in waiting if not _asked_for_the_owner(resident)]
        return not waiting

    wait_until(everybody_asked, timeout=120, log=log)
    with scopes_disabled():
        assert Conversation.objects.count() == 200
        assert WebhookEvent.objects.filter(status="done").count() == 200
    assert inbox.inbox_length() == 0


def test_twenty_events_in_one_body_are_applied_in_order_by_the_worker(
    redis_world, client, city, designer
):
    channel, log = redis_world
    document = nineteen_questions()
    procedure_publish(
        actor=designer,
        procedure=procedure_create(actor=designer, municipality=city, document=document),
    )
    user = "U" + "2" * 32
    events = [text_event(n, user=user) for n in range(20)]
    events[0]["message"]["text"] = "二十"
    for n, event in enumerate(events[1:], start=1):
        event["message"]["text"] = f"答え{n}"
    body = json.dumps({"destination": "U0", "events": events}).encode()
    response = client.post(
        f"/line/webhook/{CHANNEL_ID}/",
        body,
        content_type="application/json",
        headers={"X-Line-Signature": sign(body, channel.channel_secret)},
    )
    assert response.json()["inbox"] == "queued"

    def submitted() -> bool:
        with scopes_disabled():
            return Submission.objects.exists()

    wait_until(submitted, timeout=60, log=log)
    with scopes_disabled():
        answers = Submission.objects.get().answers
    assert [answers[f"q{n:02d}"] for n in range(1, 20)] == [f"答え{n}" for n in range(1, 20)]
