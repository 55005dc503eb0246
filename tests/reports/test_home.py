"""The console's home page: each role sees its own work for today, in a fixed number of
queries, and nothing of another municipality."""

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delivery.broadcasts.models import Broadcast, BroadcastStatus
from delivery.models import EventStatus, LineChannel, WebhookEvent
from delivery.services import line_channel_create
from govtech.models import Role
from govtech.tenancy import tenant_scope
from procedures.models import Procedure, Submission, SubmissionStatus
from procedures.services import procedure_create, procedure_publish
from tests.factories import resident as resident_of
from tests.factories import staff_member
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db
HOME = "/admin/"


def _channel(municipality, channel_id: str) -> LineChannel:
    return line_channel_create(
        actor=None,
        municipality=municipality,
        name=f"{municipality.name}公式",
        channel_id=channel_id,
        channel_secret="s" * 32,
        access_token="t" * 40,
    )


def _world(municipality, author, *, size: int, channel_id: str) -> None:
    """``size`` rows of each kind of work in ``municipality``."""
    channel = _channel(municipality, channel_id)
    with tenant_scope(municipality):
        for n in range(size):
            procedure_create(
                actor=author, municipality=municipality, document=pet_registration(key=f"d{n}")
            )
            published = procedure_create(
                actor=author, municipality=municipality, document=pet_registration(key=f"p{n}")
            )
            procedure_publish(actor=author, procedure=published)
            Procedure.objects.filter(pk=published.pk).update(draft=pet_registration(key="x"))
            for status in (SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW):
                Submission.objects.create(
                    municipality=municipality,
                    reference=f"R-{n}-{status}",
                    procedure=published,
                    resident=resident_of(municipality, f"test:U{n}"),
                    answers={},
                    status=status,
                )
            for status in (BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED):
                Broadcast.objects.create(
                    municipality=municipality,
                    channel=channel,
                    title=f"清掃の案内{n}{status}",
                    messages=[{"type": "text", "text": "こんにちは"}],
                    status=status,
                    created_by=author,
                )
            WebhookEvent.objects.create(
                municipality=municipality,
                channel=channel,
                webhook_event_id=f"{channel_id}-{n}",
                event_type="message",
                timestamp=n,
                payload={},
                status=EventStatus.FAILED,
            )


def _viewer(municipality, role: str):
    """A staff member of ``role``; admins have TOTP, which the console requires of them."""
    user = staff_member(municipality, role, email=f"{role}@{municipality.slug}.example")
    if role == Role.ADMIN:
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


def _queries(client, user) -> tuple[int, str]:
    client.force_login(user)
    client.get(HOME)  # sessions, caches: warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DESIGNER, Role.REVIEWER, Role.BROADCASTER])
def test_home_page_costs_the_same_queries_for_one_row_or_many(client, city, other_town, role):
    author = staff_member(city, Role.DESIGNER, Role.BROADCASTER, email="author@demo.example")
    viewer = _viewer(city, role)
    _world(city, author, size=1, channel_id="2000000901")
    few, _ = _queries(client, viewer)
    other_author = staff_member(other_town, Role.DESIGNER, email="author@other.example")
    _world(other_town, other_author, size=1, channel_id="2000000902")
    with tenant_scope(city):
        more = staff_member(city, Role.DESIGNER, email="more@demo.example")
    _more_work(city, more)
    many, _ = _queries(client, viewer)
    assert few == many


def _more_work(city, author) -> None:
    with tenant_scope(city):
        channel = LineChannel.objects.get(municipality=city)
        for n in range(4):
            procedure_create(
                actor=author, municipality=city, document=pet_registration(key=f"more{n}")
            )
            Broadcast.objects.create(
                municipality=city,
                channel=channel,
                title=f"追加{n}",
                messages=[],
                status=BroadcastStatus.AWAITING_APPROVAL,
                created_by=author,
            )


def test_each_role_sees_only_its_own_blocks(client, city):
    blocks = {
        Role.ADMIN: {"home-approvals", "home-submissions", "home-channels"},
        Role.DESIGNER: {"home-drafts"},
        Role.REVIEWER: {"home-submissions"},
        Role.BROADCASTER: {"home-broadcasts", "home-channels"},
    }
    every = set().union(*blocks.values()) | {"home-municipalities"}
    author = staff_member(city, Role.DESIGNER, Role.BROADCASTER, email="author@demo.example")
    _world(city, author, size=1, channel_id="2000000901")
    for role, expected in blocks.items():
        client.force_login(_viewer(city, role))
        response = client.get(HOME)
        assert response.status_code == 200
        body = response.content.decode()
        shown = {block for block in every if f'data-testid="{block}"' in body}
        assert shown == expected, role


def test_the_first_screen_says_what_needs_doing(client, city, admin_user):
    author = staff_member(city, Role.DESIGNER, Role.BROADCASTER, email="author@demo.example")
    _world(city, author, size=2, channel_id="2000000901")
    client.force_login(admin_user)
    body = client.get(HOME).content.decode()
    assert "2件の配信があなたの承認を待っています" in body
    assert "申請「新着」：2件" in body
    assert "デモ市公式：直近24時間のエラーを確認してください" in body
    assert reverse("admin:procedures_submission_changelist") + "?queue=new" in body


def test_reviewer_counts_link_to_the_inbox_queues(client, city, reviewer):
    author = staff_member(city, Role.DESIGNER, email="author@demo.example")
    _world(city, author, size=3, channel_id="2000000901")
    client.force_login(reviewer)
    body = client.get(HOME).content.decode()
    link = "/admin/procedures/submission/?queue=new"
    assert (
        f'data-queue="new"><td><a href="{link}">新着</a></td><td class="home-number">3</td>' in body
    )
    assert 'data-queue="overdue"><td><a href="/admin/procedures/submission/?queue=overdue">' in body


def test_nothing_to_do_says_so(client, city, designer):
    client.force_login(designer)
    body = client.get(HOME).content.decode()
    assert 'data-testid="home-nothing"' in body
    assert 'id="home-apps-heading"' in body  # every console page stays one scroll away


def test_an_outsider_sees_none_of_demo_citys_numbers(client, city, outsider):
    author = staff_member(city, Role.DESIGNER, Role.BROADCASTER, email="author@demo.example")
    _world(city, author, size=3, channel_id="2000000901")
    client.force_login(outsider)
    body = client.get(HOME).content.decode()
    assert 'data-testid="home-nothing"' in body
    assert "デモ市" not in body
    assert 'data-testid="count">0件<' in body
    assert "清掃の案内" not in body


def test_operator_sees_every_municipality(client, city, other_town, operator):
    author = staff_member(city, Role.DESIGNER, email="author@demo.example")
    _world(city, author, size=2, channel_id="2000000901")
    client.force_login(operator)
    body = client.get(HOME).content.decode()
    assert body.count('data-testid="municipality-row"') == 2
    assert "デモ市" in body and "アザー町" in body
