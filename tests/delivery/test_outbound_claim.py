"""Claiming outbound rows: while one worker sends a row, nobody else sends it or the rows
after it; a row left behind by a crashed worker is taken again once its lease runs out."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from delivery.models import OutboundMessage, OutboundStatus
from delivery.outbound import CLAIM_LEASE, outbound_send
from govtech.tenancy import tenant_scope
from tests.factories import line_friend

pytestmark = pytest.mark.django_db


class RecordingClient:
    """Stands in for LineClient; ``during_reply`` runs while a reply is "on the wire"."""

    def __init__(self, during_reply=None):
        self.sent: list[tuple[str, str, str]] = []
        self.during_reply = during_reply

    def reply(self, token, messages):
        if self.during_reply:
            self.during_reply()
        self.sent.append(("reply", token, messages[0]["text"]))

    def push(self, to, messages, *, retry_key):
        self.sent.append(("push", retry_key, messages[0]["text"]))


@pytest.fixture
def friend(channel):
    return line_friend(channel, "U" + "c" * 32)


def queue(friend, text, **fields) -> OutboundMessage:
    with tenant_scope(friend.municipality):
        return OutboundMessage.objects.create(
            municipality=friend.municipality,
            channel=friend.channel,
            friend=friend,
            messages=[{"type": "text", "text": text}],
            **fields,
        )


def test_a_row_being_replied_to_is_not_pushed_by_a_second_worker(friend):
    first = queue(friend, "一", reply_token="token-1", reply_token_issued_at=timezone.now())
    queue(friend, "二")
    second_worker = RecordingClient()

    def notice_arrives_meanwhile():
        outbound_send(friend=friend, client=second_worker)

    worker = RecordingClient(during_reply=notice_arrives_meanwhile)
    with tenant_scope(friend.municipality):
        outbound_send(friend=friend, client=worker, messages=[first])
        outbound_send(friend=friend, client=worker)

    assert second_worker.sent == []  # neither the row on the wire nor the one after it
    assert [(method, text) for method, _key, text in worker.sent] == [
        ("reply", "一"),
        ("push", "二"),
    ]
    with tenant_scope(friend.municipality):
        assert set(OutboundMessage.objects.values_list("status", "claimed_until")) == {
            (OutboundStatus.SENT, None)
        }


def test_a_row_already_sent_by_another_worker_is_skipped_not_waited_for(friend):
    first = queue(friend, "一")
    second = queue(friend, "二")
    stale_copies = [first, second]
    with tenant_scope(friend.municipality):
        outbound_send(friend=friend, client=RecordingClient(), messages=[first])
        late = RecordingClient()
        outbound_send(friend=friend, client=late, messages=stale_copies)
    assert [text for _m, _k, text in late.sent] == ["二"]


def test_a_row_left_by_a_crashed_worker_is_pushed_with_its_retry_key_after_the_lease(friend):
    row = queue(friend, "一", reply_token="token-1", reply_token_issued_at=timezone.now())
    crashed_at = timezone.now()
    with tenant_scope(friend.municipality):
        OutboundMessage.objects.filter(pk=row.pk).update(
            attempts=1, claimed_until=crashed_at + CLAIM_LEASE
        )
        too_soon = RecordingClient()
        outbound_send(friend=friend, client=too_soon)
        assert too_soon.sent == []
        with time_machine.travel(crashed_at + CLAIM_LEASE + timedelta(seconds=1)):
            resend = RecordingClient()
            outbound_send(friend=friend, client=resend)
        row.refresh_from_db()
    assert [method for method, _key, _text in resend.sent] == ["push"]  # never a 2nd reply
    assert resend.sent[0][1] != ""  # the row's derived retry key, so LINE answers 409
    assert (row.status, row.attempts, row.claimed_until) == (OutboundStatus.SENT, 2, None)
