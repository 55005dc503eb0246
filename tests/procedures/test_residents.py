"""Residents and the outbox: one notice per key, written in the caller's transaction, sent
after commit by the channel that reaches the resident, retried, never silently dropped."""

import pytest
from django.db import transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.residents import registry
from procedures.residents.models import Notice
from procedures.residents.registry import NoticeSendFailed
from procedures.residents.services import notice_send, resident_for_handle, resident_notify
from procedures.residents.tasks import MAX_RETRIES, retry_delay
from tests.factories import resident as resident_of

HELLO = [engine.TextPrompt("お知らせです")]


class FlakyChannel:
    """Fails ``failures`` times with a transient error, then sends."""

    name = "flaky"

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures, self.retryable, self.sent = failures, retryable, []

    def reaches(self, resident) -> bool:
        return True

    def send(self, notice) -> None:
        if self.failures:
            self.failures -= 1
            raise NoticeSendFailed("LINE answered 500", retryable=self.retryable)
        self.sent.append(notice.once_key)


@pytest.fixture
def notify(django_capture_on_commit_callbacks, eager_celery):
    """resident_notify, committed: its send task runs (eagerly) as after a real commit."""

    def call(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return resident_notify(**kwargs)

    return call


def _notice(once_key: str) -> Notice:
    with scopes_disabled():
        return Notice.objects.get(once_key=once_key)


def test_a_notice_is_sent_after_commit_and_a_second_call_with_its_key_is_a_no_op(
    city, notices, eager_celery, django_capture_on_commit_callbacks
):
    taro = resident_of(city, "terminal:taro")
    with django_capture_on_commit_callbacks(execute=True) as published:
        with transaction.atomic():
            first = resident_notify(resident=taro, prompts=HELLO, once_key="hello:1")
            assert notices.sent == []  # nothing leaves before the commit
        second = resident_notify(resident=taro, prompts=HELLO, once_key="hello:1")
    assert first.pk == second.pk and len(published) == 1
    assert notices.sent == [(taro, [HELLO[0].to_dict()])]
    assert _notice("hello:1").status == "sent" and _notice("hello:1").channel == "recording"


def test_a_rolled_back_caller_tells_nobody(city, notices, eager_celery):
    taro = resident_of(city, "terminal:taro")
    with pytest.raises(RuntimeError), transaction.atomic():
        resident_notify(resident=taro, prompts=HELLO, once_key="hello:1")
        raise RuntimeError("the caller failed")
    with scopes_disabled():
        assert not Notice.objects.exists()
    assert notices.sent == []


def test_nothing_to_say_writes_nothing(city):
    assert resident_notify(resident=resident_of(city), prompts=[], once_key="x") is None


def test_a_resident_no_channel_reaches_is_recorded_not_dropped(city, monkeypatch, notify):
    monkeypatch.setattr(registry, "_channels", {})
    notify(resident=resident_of(city), prompts=HELLO, once_key="hello:1")
    assert _notice("hello:1").status == "unreachable"


def test_a_transient_failure_is_retried_with_backoff_until_sent(city, monkeypatch, notify):
    channel = FlakyChannel(failures=2)
    monkeypatch.setattr(registry, "_channels", {channel.name: channel})
    notify(resident=resident_of(city), prompts=HELLO, once_key="hello:1")
    notice = _notice("hello:1")
    assert channel.sent == ["hello:1"]
    assert (notice.status, notice.attempts, notice.error) == ("sent", 3, "")
    assert [retry_delay(n) for n in range(MAX_RETRIES)] == [5, 10, 20, 40, 80]


def test_the_last_failure_is_recorded_on_the_row(city, monkeypatch, notify):
    channel = FlakyChannel(failures=MAX_RETRIES + 1)
    monkeypatch.setattr(registry, "_channels", {channel.name: channel})
    notify(resident=resident_of(city), prompts=HELLO, once_key="hello:1")
    notice = _notice("hello:1")
    assert (notice.status, notice.attempts) == ("failed", MAX_RETRIES + 1)
    assert notice.error == "LINE answered 500" and channel.sent == []


def test_a_permanent_failure_is_not_retried(city, monkeypatch, notify):
    channel = FlakyChannel(failures=1, retryable=False)
    monkeypatch.setattr(registry, "_channels", {channel.name: channel})
    notify(resident=resident_of(city), prompts=HELLO, once_key="hello:1")
    assert (_notice("hello:1").status, _notice("hello:1").attempts) == ("failed", 1)


def test_a_sent_notice_is_not_sent_again(city, notices):
    notice = resident_notify(resident=resident_of(city), prompts=HELLO, once_key="hello:1")
    with tenant_scope(city):
        assert notice_send(notice_id=notice.pk) == "sent"
        assert notice_send(notice_id=notice.pk) == "claimed-elsewhere"
    assert len(notices.sent) == 1


def test_a_handle_names_one_resident_per_municipality(city, other_town):
    here = resident_for_handle(municipality=city, handle="terminal:taro")
    assert resident_for_handle(municipality=city, handle="terminal:taro") == here
    there = resident_for_handle(municipality=other_town, handle="terminal:taro")
    assert there != here and there.municipality == other_town


# --- the console --------------------------------------------------------------------------


@pytest.fixture
def failed_notice(city, monkeypatch, notify):
    channel = FlakyChannel(failures=1, retryable=False)
    monkeypatch.setattr(registry, "_channels", {channel.name: channel})
    notify(resident=resident_of(city), prompts=HELLO, once_key="offer:7")
    return _notice("offer:7")


def test_an_admin_sees_a_failed_notice_and_its_error_and_the_view_is_audited(
    client, admin_user, city, failed_notice
):
    client.force_login(admin_user)
    listing = client.get(reverse("admin:procedures_notice_changelist")).content.decode()
    assert "offer:7" in listing
    url = reverse("admin:procedures_notice_change", args=[failed_notice.pk])
    body = client.get(url).content.decode()
    assert "LINE answered 500" in body and "お知らせです" in body
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="procedures.notice.viewed").count() == 1


def test_reviewers_and_outsiders_see_no_notices(client, reviewer, outsider, failed_notice):
    url = reverse("admin:procedures_notice_change", args=[failed_notice.pk])
    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    listing = client.get(reverse("admin:procedures_notice_changelist")).content.decode()
    assert "offer:7" not in listing
