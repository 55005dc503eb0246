"""Request approval, approve, send back and cancel from the broadcast's own page: through
the services, audited, and the approver sees the rendered messages and the true audience."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import BroadcastStatus
from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from tests.delivery.broadcast_world import user_id
from tests.factories import line_friend

pytestmark = pytest.mark.django_db
TEXT = [{"type": "text", "text": "{display_name}さん、お知らせです"}]


@pytest.fixture
def draft(channel, broadcaster):
    return broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="粗大ごみのお知らせ", items=TEXT
    )


def _audited(action: str) -> AuditLogEntry:
    with scopes_disabled():
        return AuditLogEntry.objects.get(action=action)


def _following(channel, count: int) -> None:
    for n in range(count):
        line_friend(channel, user_id("r", n), is_following=True)


@pytest.fixture(autouse=True)
def no_start(monkeypatch):
    monkeypatch.setattr(broadcasts, "_enqueue_start_if_due", lambda broadcast: None)


def _page(broadcast):
    return reverse("admin:delivery_broadcast_change", args=[broadcast.pk])


def _decide(client, broadcast, decision, **data):
    url = reverse("admin:delivery_broadcast_decide", args=[broadcast.pk])
    return client.post(url, {"decision": decision, **data})


def _status(broadcast):
    with tenant_scope(broadcast.municipality):
        broadcast.refresh_from_db()
    return broadcast.status


def test_author_requests_approval_from_the_page(client, draft, broadcaster):
    client.force_login(broadcaster)
    body = client.get(_page(draft)).content.decode()
    assert 'data-testid="decision-submit"' in body
    assert "承認を申請する" in body
    response = _decide(client, draft, "submit")
    assert response.status_code == 302 and response.url == _page(draft)
    assert _status(draft) == BroadcastStatus.AWAITING_APPROVAL
    assert _audited("delivery.broadcast.submitted").target_id == str(draft.pk)


def test_approver_sees_the_rendered_messages_and_the_true_audience(
    client, channel, draft, broadcaster, admin_user
):
    _following(channel, 3)
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    client.force_login(admin_user)
    body = client.get(_page(draft)).content.decode()
    assert 'data-testid="audience-count">3人' in body
    assert "{display_name}さん" not in body  # no raw JSON: the preview draws the messages
    assert reverse("admin:delivery_broadcast_preview", args=[draft.pk]) in body
    assert 'data-testid="decision-approve"' in body
    preview = client.get(reverse("admin:delivery_broadcast_preview", args=[draft.pk])).json()
    assert preview["messages"][0]["text"].endswith("さん、お知らせです")
    _decide(client, draft, "approve")
    assert _status(draft) == BroadcastStatus.SCHEDULED
    assert _audited("delivery.broadcast.approved").actor == admin_user


def test_approver_sends_back_with_a_reason_the_author_then_reads(
    client, draft, broadcaster, admin_user
):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    client.force_login(admin_user)
    assert _decide(client, draft, "send_back", reason="").status_code == 302
    assert _status(draft) == BroadcastStatus.AWAITING_APPROVAL  # a reason is required
    _decide(client, draft, "send_back", reason="日付を直してください")
    assert _status(draft) == BroadcastStatus.DRAFT
    entry = _audited("delivery.broadcast.sent_back")
    assert entry.data == {"reason": "日付を直してください"}
    client.force_login(broadcaster)
    body = client.get(_page(draft)).content.decode()
    assert "日付を直してください" in body
    _decide(client, draft, "submit")  # submitted again: the old reason is no longer shown
    assert "日付を直してください" not in client.get(_page(draft)).content.decode()


def test_the_author_cannot_approve_from_the_page(client, channel, admin_user):
    own = broadcasts.broadcast_create(actor=admin_user, channel=channel, title="x", items=TEXT)
    broadcasts.broadcast_submit(actor=admin_user, broadcast=own)
    client.force_login(admin_user)
    assert 'data-testid="decision-approve"' not in client.get(_page(own)).content.decode()
    assert _decide(client, own, "approve").status_code == 403
    assert _status(own) == BroadcastStatus.AWAITING_APPROVAL


def test_a_broadcaster_cannot_approve_or_send_back(client, draft, broadcaster, city):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    client.force_login(broadcaster)
    assert _decide(client, draft, "approve").status_code == 403
    assert _decide(client, draft, "send_back", reason="x").status_code == 403
    assert _status(draft) == BroadcastStatus.AWAITING_APPROVAL


def test_an_outsider_gets_404(client, draft, broadcaster, outsider):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    client.force_login(outsider)
    assert client.get(_page(draft)).status_code == 404
    assert _decide(client, draft, "approve").status_code == 404
    assert _status(draft) == BroadcastStatus.AWAITING_APPROVAL
