"""Processing and sending over the live LINE world: redelivery, ordering, bursts,
expired reply tokens, rate limits, retry keys."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_scopes import scopes_disabled
from linebot.v3.messaging.exceptions import ApiException

from delivery import line_api
from delivery.models import Friend, OutboundMessage, WebhookEvent
from delivery.simulator.models import SimulatorChannel, SimulatorTranscriptEntry
from delivery.simulator.services import simulator_channel_configure, simulator_webhook_redeliver
from procedures import engine
from procedures.models import Conversation, Submission
from procedures.residents.services import resident_notify
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def dog_procedure(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def nineteen_questions() -> dict:
    """A procedure started by 二十 that asks 19 text questions: 20 events to apply in order."""
    document = pet_registration(key="twenty", triggers={"keywords": ["二十"]})
    document["steps"] = [
        {"id": f"q{n:02d}", "type": "text", "label": {"ja": f"質問{n}"}, "prompt": {"ja": "?"}}
        for n in range(1, 20)
    ]
    return document


def sim_channel() -> SimulatorChannel:
    return SimulatorChannel.objects.get()


def test_a_redelivered_event_has_no_second_effect(line_world, dog_procedure):
    taro = line_world()
    taro.say("犬の届出")
    first = taro.received()
    assert first
    entry = SimulatorTranscriptEntry.objects.filter(direction="in").latest("id")
    result = simulator_webhook_redeliver(entry=entry)
    assert result.status == 200
    assert taro.received() == []  # nothing sent again
    with scopes_disabled():
        assert Conversation.objects.count() == 1
        assert WebhookEvent.objects.count() == 1


def test_twenty_events_of_one_resident_at_once_are_applied_in_order(
    line_world, city, designer, client
):
    document = nineteen_questions()
    procedure_publish(
        actor=designer,
        procedure=procedure_create(actor=designer, municipality=city, document=document),
    )
    taro = line_world()
    from tests.delivery.test_webhook import sign, text_event

    events = [text_event(0, user=taro.user_id)]
    events[0]["message"]["text"] = "二十"
    for n in range(1, 20):
        event = text_event(n, user=taro.user_id)
        event["message"]["text"] = f"答え{n}"
        events.append(event)
    body = json.dumps({"destination": "U0", "events": events}).encode()
    channel = line_world.channel
    response = client.post(
        f"/line/webhook/{channel.channel_id}/",
        body,
        content_type="application/json",
        headers={"X-Line-Signature": sign(body, channel.channel_secret)},
    )
    assert response.status_code == 200
    with scopes_disabled():
        submission = Submission.objects.get()
    assert [submission.answers[f"q{n:02d}"] for n in range(1, 20)] == [
        f"答え{n}" for n in range(1, 20)
    ]


@pytest.mark.postgres
def test_a_burst_across_many_residents_loses_nothing(line_world, dog_procedure):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite's shared in-memory test DB locks)")
    residents = [line_world(f"U{n:032x}") for n in range(1, 201)]
    errors = []

    def talk(resident):
        try:
            resident.say("犬の届出")
        except Exception as exc:
            errors.append(exc)

    # 16 at a time: Django's live test server has a small listen backlog; the product
    # itself is measured under real concurrency by make bench (gunicorn).
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(talk, residents))
    assert not errors
    for resident in residents:
        assert "飼い主の氏名" in "".join(m.get("text", "") for m in resident.received())
    with scopes_disabled():
        assert Conversation.objects.count() == len(residents)
        assert WebhookEvent.objects.filter(status="done").count() == len(residents)


def test_expired_reply_token_falls_back_to_push(line_world, dog_procedure):
    simulator_channel_configure(channel=sim_channel(), reply_token_ttl_seconds=0)
    taro = line_world()
    taro.say("犬の届出")
    assert "飼い主の氏名" in "".join(m.get("text", "") for m in taro.received())
    with scopes_disabled():
        assert list(OutboundMessage.objects.values_list("method", "status")) == [("push", "sent")]


def test_rate_limited_push_is_retried_and_arrives(line_world, dog_procedure, monkeypatch):
    monkeypatch.setattr(line_api, "BACKOFF", 0.6)
    simulator_channel_configure(
        channel=sim_channel(), reply_token_ttl_seconds=0, rate_limits={"push": [1, 1]}
    )
    taro = line_world()
    taro.say("犬の届出")  # one push: within the limit
    taro.say("山田太郎")  # the next push within a second is refused 429, then retried
    texts = "".join(m.get("text", "") for m in taro.received())
    assert "変更内容" in texts
    with scopes_disabled():
        assert OutboundMessage.objects.filter(status="sent").count() == 2


def test_a_notice_reaches_the_resident_in_line_once_per_key(line_world):
    taro = line_world()
    taro.follow()
    taro.received()
    with scopes_disabled():
        resident = Friend.objects.select_related("resident__municipality").get().resident
    for _ in range(2):  # a task that runs twice
        notice = resident_notify(
            resident=resident, prompts=[engine.TextPrompt("お知らせです")], once_key="notice:1"
        )
    notice.refresh_from_db()
    assert (notice.status, notice.channel, notice.attempts) == ("sent", "line", 1)
    assert [m["text"] for m in taro.received()] == ["お知らせです"]
    with scopes_disabled():
        message = OutboundMessage.objects.get(retry_key=notice.retry_key)
    assert message.status == "sent" and message.method == "push"


def test_call_with_retries_gives_up_on_4xx_and_retries_429():
    sleeps = []
    attempts = iter([ApiException(status=429), ApiException(status=503), "ok"])

    def flaky():
        result = next(attempts)
        if isinstance(result, Exception):
            raise result
        return result

    assert line_api.call_with_retries(flaky, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2

    def refused():
        raise ApiException(status=400)

    with pytest.raises(line_api.LineApiError) as excinfo:
        line_api.call_with_retries(refused, sleep=sleeps.append)
    assert excinfo.value.status == 400 and len(sleeps) == 2
