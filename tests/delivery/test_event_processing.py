"""Processing a resident's events: a bug marks the event failed, a busy database does not;
a turn reads what it needs once; a photo's download shows LINE's loading animation."""

import io

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled
from PIL import Image

from delivery.friends import friend_test_ensure
from delivery.inbox import webhook_channel, webhook_events_accept
from delivery.line_api import LineApiError
from delivery.models import EventStatus, Friend, OutboundMessage, WebhookEvent
from delivery.services import resident_events_process, resident_loading_show
from procedures.runtime import resident_input
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
        resident_events_process(channel_pk=channel.pk, line_user_id=USER)

    assert event_status() == EventStatus.PENDING


def test_a_bug_marks_the_event_failed_so_later_events_go_on(channel, pending_event, monkeypatch):
    def bug(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("delivery.services.resident_input", bug)

    assert resident_events_process(channel_pk=channel.pk, line_user_id=USER) == 1
    assert event_status() == EventStatus.FAILED


class RecordingClient:
    """Stands for the worker thread's LINE client: records the calls in order."""

    def __init__(self, *, loading_error: LineApiError | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.loading_error = loading_error

    def reply(self, reply_token: str, messages: list[dict]) -> None:
        self.calls.append(("reply", reply_token))

    def push(self, user_id: str, messages: list[dict], *, retry_key: str) -> None:
        self.calls.append(("push", user_id))

    def loading_start(self, user_id: str, *, seconds: int) -> None:
        self.calls.append(("loading", user_id))
        if self.loading_error is not None:
            raise self.loading_error

    def content(self, message_id: str) -> bytes:
        self.calls.append(("content", message_id))
        buffer = io.BytesIO()
        Image.new("RGB", (32, 24), "blue").save(buffer, format="JPEG")
        return buffer.getvalue()

    def sends(self) -> list[str]:
        """What the resident saw happen, in order: answers, dots and downloads."""
        return [kind if kind in ("loading", "content") else "answer" for kind, _ in self.calls]


@pytest.fixture
def line(monkeypatch):
    client = RecordingClient()
    monkeypatch.setattr("delivery.services.shared_client", lambda access_token: client)
    return client


def photo_event(n: int, user: str = USER) -> dict:
    return text_event(n, user=user, message={"id": str(n), "type": "image"})


def accept(channel, *events: dict) -> None:
    webhook_events_accept(channel=webhook_channel(channel_id=channel.channel_id), events=events)


@pytest.mark.django_db(transaction=True)  # the turn's own transaction, not a test's savepoint
def test_a_turn_reads_the_friend_and_its_events_once_in_one_transaction(
    channel, pending_event, line
):
    with CaptureQueriesContext(connection) as queries:
        assert resident_events_process(channel_pk=channel.pk, line_user_id=USER) == 1

    statements = [query["sql"] for query in queries.captured_queries]

    def reads_of(table: str) -> int:
        return sum(sql.startswith("SELECT") and f'FROM "{table}"' in sql for sql in statements)

    # The friend locked once (not looked up before), with its channel and municipality.
    assert reads_of("delivery_friend") == 1
    assert reads_of("delivery_linechannel") == reads_of("govtech_municipality") == 0
    assert reads_of("delivery_webhookevent") == 1  # not read once more for photos
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    assert line.sends() == ["answer"]
    assert event_status() == EventStatus.DONE


def test_a_bug_in_one_event_rolls_back_only_its_own_effects(channel, line, monkeypatch):
    from delivery.tasks import process_resident_events

    monkeypatch.setattr(process_resident_events, "delay", lambda *args: None)
    friend_test_ensure(channel=channel, line_user_id=USER, display_name="住民")

    def bug_on_the_second(**kwargs):
        if kwargs["inp"].text == "壊す":
            Friend.objects.filter(line_user_id=USER).update(display_name="途中まで")
            raise ValueError("a bug")
        return resident_input(**kwargs)

    monkeypatch.setattr("delivery.services.resident_input", bug_on_the_second)
    broken = text_event(2, user=USER, message={"id": "2", "type": "text", "text": "壊す"})
    accept(channel, text_event(1, user=USER), broken, text_event(3, user=USER))

    assert resident_events_process(channel_pk=channel.pk, line_user_id=USER) == 3

    assert statuses() == [EventStatus.DONE, EventStatus.FAILED, EventStatus.DONE]
    with scopes_disabled():
        assert Friend.objects.get(line_user_id=USER).display_name == "住民"  # rolled back
        answered = set(OutboundMessage.objects.values_list("event__webhook_event_id", flat=True))
    assert answered == {text_event(1)["webhookEventId"], text_event(3)["webhookEventId"]}
    assert line.sends() == ["answer", "answer"]  # each once, though the run was applied twice


def test_a_photo_is_downloaded_after_the_answers_before_it_with_the_loading_animation(
    channel, pending_event, line
):
    accept(channel, photo_event(2), text_event(3, user=USER))

    assert resident_events_process(channel_pk=channel.pk, line_user_id=USER) == 3

    # The first answer is not held by the download; the dots show while it runs (an
    # answer sent after them would hide them at once), then the photo's and the rest.
    assert line.sends() == ["answer", "loading", "content", "answer", "answer"]
    assert ("loading", USER) in line.calls
    assert set(statuses()) == {EventStatus.DONE}


def test_a_refused_loading_animation_never_holds_the_answer(channel, pending_event, line):
    line.loading_error = LineApiError(500, "busy", retryable=True)
    accept(channel, photo_event(2))

    assert resident_events_process(channel_pk=channel.pk, line_user_id=USER) == 2

    assert line.sends() == ["answer", "loading", "content", "answer"]
    assert set(statuses()) == {EventStatus.DONE}


def test_a_turn_without_photos_shows_no_loading_animation(channel, pending_event, line):
    accept(channel, text_event(2, user=USER))

    resident_events_process(channel_pk=channel.pk, line_user_id=USER)

    assert "loading" not in line.sends()


def test_the_loading_animation_is_only_for_one_to_one_chats(channel, line):
    resident_loading_show(channel=channel, line_user_id="C" + "1" * 32)  # a group
    resident_loading_show(channel=channel, line_user_id=USER)

    assert line.calls == [("loading", USER)]


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


def test_a_burst_is_taken_in_turns_and_the_rest_queued_behind_others(channel, burst, line):
    from delivery.services import EVENTS_PER_RUN
    from delivery.tasks import process_resident_events

    assert process_resident_events(channel.pk, USER) == EVENTS_PER_RUN
    assert statuses()[:EVENTS_PER_RUN] == [EventStatus.DONE] * EVENTS_PER_RUN
    assert set(statuses()[EVENTS_PER_RUN:]) == {EventStatus.PENDING}  # the oldest first
    assert burst == [(channel.pk, USER)]  # one successor, at the back of the queue
    assert line.calls == [("loading", USER)]  # the rest waits: the resident sees the dots

    while burst:
        process_resident_events(*burst.pop())
    assert set(statuses()) == {EventStatus.DONE}


def test_the_last_turn_of_a_burst_publishes_no_successor(channel, burst, line):
    from delivery.tasks import process_resident_events

    for _turn in range(2):
        process_resident_events(channel.pk, USER)
    burst.clear()
    line.calls.clear()
    assert process_resident_events(channel.pk, USER) == 5
    assert burst == []
    assert line.calls == []  # nothing left to wait for: no dots
    assert set(statuses()) == {EventStatus.DONE}
