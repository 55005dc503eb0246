"""Everything about one resident, exported or erased with one call: procedures' rows and
delivery's LINE identity, events and messages (a registered contributor)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django_scopes import scopes_disabled

from delivery.models import Friend, OutboundMessage, WebhookEvent
from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.models import Conversation, ResidentUpload, Submission
from procedures.reservations.models import Booking
from procedures.reservations.services import BookingRequest, booking_create
from procedures.residents.models import Resident
from procedures.residents.services import resident_erase, resident_export
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.factories import line_friend
from tests.procedures.docs import pet_registration
from tests.procedures.reservation_fixtures import make_resource

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 9, tzinfo=TOKYO)


def _taro_with_a_history(city, channel, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    friend = line_friend(channel, "U" + "a" * 32, display_name="山田太郎")
    taro = friend.resident
    for text in ["犬の届出", "山田太郎", "住所", "スキップ", "送信"]:
        resident_input(municipality=city, resident=taro, inp=engine.TextInput(text), now=NOW)
    with tenant_scope(city):
        WebhookEvent.objects.create(
            municipality=city,
            channel=channel,
            webhook_event_id="01EVENT",
            line_user_id=friend.line_user_id,
            event_type="message",
            timestamp=1,
            payload={"type": "message"},
        )
        OutboundMessage.objects.create(
            municipality=city, channel=channel, friend=friend, messages=[{"type": "text"}]
        )
        ResidentUpload.objects.create(
            id="00000000-0000-0000-0000-000000000001",
            municipality=city,
            resident=taro,
            file=ContentFile(b"jpeg", name="photo.jpg"),
            content_type="image/jpeg",
            size=4,
            created_at=NOW,
        )
        resource = make_resource(city)
        booking_create(
            request=BookingRequest(
                resource=resource, starts_at=datetime(2026, 12, 2, 10, tzinfo=TOKYO), resident=taro
            ),
            now=NOW,
        )
    return taro


def test_an_export_holds_everything_about_the_resident_and_nobody_else(
    city, channel, designer, admin_user
):
    taro = _taro_with_a_history(city, channel, designer)
    line_friend(channel, "U" + "b" * 32, display_name="山田花子")  # someone else

    data = resident_export(actor=admin_user, resident=taro)

    assert data["resident"]["id"] == taro.pk
    assert [s["reference"] for s in data["submissions"]] == ["DC-2026-000001"]
    assert len(data["conversations"]) == 1 and len(data["bookings"]) == 1
    assert len(data["uploads"]) == 1
    [line] = data["line"]
    assert line["display_name"] == "山田太郎" and line["messages_sent"] == [[{"type": "text"}]]
    with scopes_disabled():
        assert AuditLogEntry.objects.filter(action="procedures.resident.exported").count() == 1


def test_erasing_a_resident_removes_their_rows_in_every_app_and_keeps_the_others(
    city, channel, designer, admin_user, django_capture_on_commit_callbacks
):
    taro = _taro_with_a_history(city, channel, designer)
    hanako = line_friend(channel, "U" + "b" * 32, display_name="山田花子")
    with scopes_disabled():
        photo = ResidentUpload.objects.get().file
    assert photo.storage.exists(photo.name)

    with django_capture_on_commit_callbacks(execute=True):
        counts = resident_erase(actor=admin_user, resident=taro)

    assert counts["line"] == 3  # the friend, its event and its message
    with scopes_disabled():
        for model in (Conversation, Submission, ResidentUpload, Booking, WebhookEvent):
            assert not model.objects.exists(), model
        assert not OutboundMessage.objects.exists()
        assert list(Friend.objects.all()) == [hanako]
        assert list(Resident.objects.all()) == [hanako.resident]
        entry = AuditLogEntry.objects.get(action="procedures.resident.erased")
    assert entry.data["resident"] == taro.pk
    assert not photo.storage.exists(photo.name)
