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
