"""Processing a resident's events: a bug marks the event failed, a busy database does not."""

import pytest
from django.db import OperationalError
from django_scopes import scopes_disabled

from delivery.friends import friend_test_ensure
from delivery.inbox import webhook_channel, webhook_events_accept
from delivery.models import EventStatus, WebhookEvent
from delivery.services import resident_events_process
from tests.delivery.test_webhook import text_event

pytestmark = pytest.mark.django_db

USER = "U" + "e" * 32


@pytest.fixture
def pending_event(channel, monkeypatch):
    """One stored text event of a resident who is already a friend (no profile fetch)."""
    from delivery.tasks import process_resident_events

    monkeypatch.setattr(process_resident_events, "delay", lambda *args: None)
    friend_test_ensure(channel=channel, line_user_id=USER, display_name="住民")
    webhook_events_accept(
        channel=webhook_channel(channel_id=channel.channel_id), events=[text_event(user=USER)]
    )


def event_status() -> str:
    with scopes_disabled():
        return WebhookEvent.objects.get(line_user_id=USER).status


def test_a_busy_database_leaves_the_event_pending_for_another_run(
    channel, pending_event, monkeypatch
):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("delivery.services.resident_input", locked)

    with pytest.raises(OperationalError):
        resident_events_process(channel=channel, line_user_id=USER)

    assert event_status() == EventStatus.PENDING


def test_a_bug_marks_the_event_failed_so_later_events_go_on(channel, pending_event, monkeypatch):
    def bug(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("delivery.services.resident_input", bug)

    assert resident_events_process(channel=channel, line_user_id=USER) == 1
    assert event_status() == EventStatus.FAILED


class _Quiet:
    """What resident_input returns when there is nothing to say (no LINE call follows)."""

    prompts: list = []
    submission = None


@pytest.fixture
def burst(channel, monkeypatch):
    """45 stored text events of one resident who is already a friend; nothing to answer."""
    from delivery.tasks import process_resident_events

    monkeypatch.setattr("delivery.services.resident_input", lambda **kwargs: _Quiet())
    published: list[tuple] = []
    monkeypatch.setattr(process_resident_events, "delay", lambda *args: published.append(args))
    friend_test_ensure(channel=channel, line_user_id=USER, display_name="住民")
    events = [text_event(n, user=USER) for n in range(1, 46)]
    webhook_events_accept(channel=webhook_channel(channel_id=channel.channel_id), events=events)
    published.clear()
    return published


def statuses() -> list[str]:
    with scopes_disabled():
        return list(
            WebhookEvent.objects.filter(line_user_id=USER)
            .order_by("timestamp")
            .values_list("status", flat=True)
        )


def test_a_burst_is_taken_in_turns_and_the_rest_queued_behind_others(channel, burst):
    from delivery.services import EVENTS_PER_RUN
    from delivery.tasks import process_resident_events

    assert process_resident_events(channel.pk, USER) == EVENTS_PER_RUN
    assert statuses()[:EVENTS_PER_RUN] == [EventStatus.DONE] * EVENTS_PER_RUN
    assert set(statuses()[EVENTS_PER_RUN:]) == {EventStatus.PENDING}  # the oldest first
    assert burst == [(channel.pk, USER)]  # one successor, at the back of the queue

    while burst:
        process_resident_events(*burst.pop())
    assert set(statuses()) == {EventStatus.DONE}


def test_the_last_turn_of_a_burst_publishes_no_successor(channel, burst):
    from delivery.tasks import process_resident_events

    for _turn in range(2):
        process_resident_events(channel.pk, USER)
    burst.clear()
    assert process_resident_events(channel.pk, USER) == 5
    assert burst == []
    assert set(statuses()) == {EventStatus.DONE}
