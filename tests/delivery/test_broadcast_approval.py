"""Approval is enforced per municipality; cancelling works until sending starts."""

import pytest
from django.core.exceptions import ValidationError

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import BroadcastStatus
from govtech.services import ServiceError
from govtech.tenancy import tenant_scope

TEXT = [{"type": "text", "text": "お知らせ"}]


@pytest.fixture
def draft(channel, broadcaster):
    return broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="お知らせ", items=TEXT
    )


@pytest.fixture
def no_start(monkeypatch):
    """Keep approved broadcasts scheduled (sending is tested elsewhere)."""
    monkeypatch.setattr(broadcasts, "_enqueue_start_if_due", lambda broadcast: None)


def test_a_submitted_broadcast_waits_for_approval_by_default(draft, broadcaster, no_start):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    assert draft.status == BroadcastStatus.AWAITING_APPROVAL


def test_a_municipality_admin_approves_and_it_is_scheduled(
    draft, broadcaster, admin_user, no_start
):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    broadcasts.broadcast_approve(actor=admin_user, broadcast=draft)
    assert draft.status == BroadcastStatus.SCHEDULED
    assert draft.approved_by == admin_user


def test_a_broadcaster_cannot_approve(draft, broadcaster, city, no_start):
    from govtech.models import Role
    from tests.factories import staff_member

    colleague = staff_member(city, Role.BROADCASTER, email="other@demo-city.example")
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    with pytest.raises(ServiceError):
        broadcasts.broadcast_approve(actor=colleague, broadcast=draft)
    assert draft.status == BroadcastStatus.AWAITING_APPROVAL


def test_the_author_cannot_approve_their_own_broadcast(channel, admin_user, no_start):
    draft = broadcasts.broadcast_create(actor=admin_user, channel=channel, title="x", items=TEXT)
    broadcasts.broadcast_submit(actor=admin_user, broadcast=draft)
    with pytest.raises(ServiceError):
        broadcasts.broadcast_approve(actor=admin_user, broadcast=draft)


def test_an_admin_of_another_municipality_cannot_approve(draft, broadcaster, outsider, no_start):
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    with pytest.raises(ServiceError):
        broadcasts.broadcast_approve(actor=outsider, broadcast=draft)
    assert draft.status == BroadcastStatus.AWAITING_APPROVAL


def test_without_required_approval_a_submitted_broadcast_is_scheduled(
    draft, city, broadcaster, no_start
):
    broadcasts.broadcast_policy_set(actor=None, municipality=city, approval_required=False)
    broadcasts.broadcast_submit(actor=broadcaster, broadcast=draft)
    assert draft.status == BroadcastStatus.SCHEDULED


def test_a_draft_cannot_be_approved_before_it_is_submitted(draft, admin_user):
    with pytest.raises(ServiceError):
        broadcasts.broadcast_approve(actor=admin_user, broadcast=draft)


def test_a_broadcast_can_be_cancelled_until_it_starts(draft, broadcaster, city):
    broadcasts.broadcast_cancel(actor=broadcaster, broadcast=draft)
    assert draft.status == BroadcastStatus.CANCELLED
    with tenant_scope(city):
        draft.__class__.objects.filter(pk=draft.pk).update(status=BroadcastStatus.SENDING)
    with pytest.raises(ServiceError):
        broadcasts.broadcast_cancel(actor=broadcaster, broadcast=draft)


def test_a_cancelled_broadcast_is_never_started(draft, broadcaster, city):
    broadcasts.broadcast_cancel(actor=broadcaster, broadcast=draft)
    with tenant_scope(city):
        assert broadcasts.broadcast_start(broadcast_id=draft.pk) is False


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"type": "text", "text": "x"}] * 6,
        [{"type": "image", "url": "http://x"}],
        [{"type": "video"}],
        [{"type": "button", "text": "x", "label": ""}],
    ],
)
def test_malformed_messages_are_refused(channel, broadcaster, items):
    with pytest.raises(ValidationError):
        broadcasts.broadcast_create(actor=broadcaster, channel=channel, title="x", items=items)
