"""Residents' photos for staff: who may see them, every view audited, thumbnails kept."""

import io
import uuid
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from PIL import Image

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.casework import media
from procedures.models import ResidentUpload, upload_thumbnail_name
from procedures.residents.services import resident_erase
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish, resident_upload_store
from tests.factories import DepartmentFactory, staff_member
from tests.factories import resident as resident_of

pytestmark = pytest.mark.django_db


def road_damage() -> dict:
    return {
        "format": "govtech.procedure.v1",
        "key": "road-damage",
        "kind": "report",
        "title": {"ja": "道路の損傷の通報"},
        "languages": ["ja"],
        "triggers": {"keywords": ["道路"]},
        "steps": [
            {
                "id": "photo",
                "type": "image",
                "label": {"ja": "損傷の写真"},
                "prompt": {"ja": "損傷の写真を送ってください"},
            },
            {
                "id": "place",
                "type": "location",
                "label": {"ja": "場所"},
                "prompt": {"ja": "場所を送ってください"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "受付番号 {reference} で受け付けました"},
    }


def jpeg(size=(1200, 800), color=(200, 30, 30)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, format="JPEG")
    return output.getvalue()


@pytest.fixture
def road_department(city):
    return DepartmentFactory(municipality=city, code="doro", name="道路課")


@pytest.fixture
def submission(city, designer, road_department):
    procedure = procedure_create(
        actor=designer, municipality=city, document=road_damage(), department=road_department
    )
    procedure_publish(actor=designer, procedure=procedure)
    return _report(city, "line:test:U1", uuid.UUID(int=1))


def _report(city, handle, upload_id):
    """A road-damage report sent through the runtime, with a stored photo and a place."""
    resident = resident_of(city, handle)
    content = jpeg()
    resident_upload_store(
        upload_id=upload_id,
        municipality=city,
        resident=resident,
        content=content,
        content_type="image/jpeg",
        width=1200,
        height=800,
        extension=".jpg",
    )
    inputs = [
        engine.TextInput("道路"),
        engine.ImageInput(ref=str(upload_id)),
        engine.LocationInput(35.446, 139.390, address="神奈川県座間市緑ケ丘1-1-1"),
        engine.TextInput("送信"),
    ]
    for inp in inputs:
        reply = resident_input(municipality=city, resident=resident, inp=inp)
    assert reply.submission is not None
    return reply.submission


@pytest.fixture
def upload(submission, city):
    with tenant_scope(city):
        return ResidentUpload.objects.get(submission=submission)


def photo_url(submission, upload_id, size="full"):
    name = "procedures_submission_photo" + ("_thumb" if size == "thumb" else "")
    return reverse(f"admin:{name}", args=[submission.pk, upload_id])


def fetch(client, url):
    """GET ``url``; a photo's bytes are read into ``.body`` (reading to the end is what makes
    the test client close the file)."""
    response = client.get(url)
    response.body = b"".join(response.streaming_content) if response.streaming else b""
    return response


def audit_entries(city):
    with tenant_scope(city):
        return list(
            AuditLogEntry.objects.filter(action="procedures.submission.photo_viewed").order_by("pk")
        )


# --- who may see ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["full", "thumb"])
def test_anonymous_visitor_is_sent_to_login_and_never_gets_the_photo(
    client, submission, upload, size
):
    response = fetch(client, photo_url(submission, upload.pk, size))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert response.body == b""


def test_no_public_address_serves_the_stored_upload(client, admin_user, submission, upload):
    """Only the views above serve photos: MEDIA_URL is not mounted, for anyone."""
    name = upload.file.name
    assert fetch(client, f"{settings.MEDIA_URL}{name}").status_code == 404
    client.force_login(admin_user)
    assert fetch(client, f"{settings.MEDIA_URL}{name}").status_code == 404


@pytest.mark.parametrize("size", ["full", "thumb"])
def test_reviewer_of_the_department_gets_the_photo(
    client, city, reviewer, road_department, submission, upload, size
):
    staff_set_roles(
        actor=None,
        municipality=city,
        user=reviewer,
        roles=[Role.REVIEWER],
        departments=[road_department],
    )
    client.force_login(reviewer)
    response = fetch(client, photo_url(submission, upload.pk, size))
    assert response.status_code == 200
    body = response.body
    assert response["Content-Type"] == "image/jpeg"
    assert body.startswith(b"\xff\xd8")
    if size == "full":
        with upload.file.open("rb") as stored:
            assert body == stored.read()


def test_admin_gets_the_full_photo_with_private_headers(client, admin_user, submission, upload):
    client.force_login(admin_user)
    response = fetch(client, photo_url(submission, upload.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control


def test_operator_gets_the_photo(client, operator, submission, upload):
    client.force_login(operator)
    assert fetch(client, photo_url(submission, upload.pk)).status_code == 200


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.BROADCASTER])
@pytest.mark.parametrize("size", ["full", "thumb"])
def test_roles_that_do_not_review_are_refused(client, city, submission, upload, role, size):
    client.force_login(staff_member(city, role))
    assert fetch(client, photo_url(submission, upload.pk, size)).status_code == 403
    assert audit_entries(city) == []


@pytest.mark.parametrize("size", ["full", "thumb"])
def test_reviewer_of_another_department_gets_404(client, city, reviewer, submission, upload, size):
    welfare = DepartmentFactory(municipality=city, code="fukushi", name="福祉課")
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[welfare]
    )
    client.force_login(reviewer)
    assert fetch(client, photo_url(submission, upload.pk, size)).status_code == 404
    assert audit_entries(city) == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DESIGNER, Role.REVIEWER, Role.BROADCASTER])
@pytest.mark.parametrize("size", ["full", "thumb"])
def test_every_role_of_another_municipality_gets_404(
    client, other_town, submission, upload, role, size
):
    outsider = staff_member(other_town, role)
    if role == Role.ADMIN:  # admins must have a second factor before anything else
        outsider.authenticator_set.create(type="totp", data={"secret": "x"})
    client.force_login(outsider)
    assert fetch(client, photo_url(submission, upload.pk, size)).status_code == 404


def test_missing_submission_and_missing_upload_are_404(client, admin_user, submission, upload):
    client.force_login(admin_user)
    assert fetch(client, photo_url(submission, uuid.uuid4())).status_code == 404
    missing = reverse("admin:procedures_submission_photo", args=[submission.pk + 1000, upload.pk])
    assert fetch(client, missing).status_code == 404


def test_an_upload_of_another_submission_is_404_even_in_the_same_city(
    client, city, admin_user, submission, upload
):
    second = _report(city, "line:test:U2", uuid.UUID(int=2))
    client.force_login(admin_user)
    assert fetch(client, photo_url(second, upload.pk)).status_code == 404
    assert fetch(client, photo_url(submission, uuid.UUID(int=2))).status_code == 404
    assert fetch(client, photo_url(second, uuid.UUID(int=2))).status_code == 200


def test_an_upload_of_another_municipality_is_404(
    client, city, other_town, admin_user, submission, designer
):
    stranger = resident_of(other_town, "line:test:U9")
    foreign = resident_upload_store(
        upload_id=uuid.UUID(int=9),
        municipality=other_town,
        resident=stranger,
        content=jpeg(),
        content_type="image/jpeg",
        width=1200,
        height=800,
        extension=".jpg",
    )
    client.force_login(admin_user)
    assert fetch(client, photo_url(submission, foreign.pk)).status_code == 404


def test_an_upload_not_yet_attached_to_a_submission_is_404(
    client, city, admin_user, submission, upload
):
    loose = resident_upload_store(
        upload_id=uuid.UUID(int=3),
        municipality=city,
        resident=upload.resident,
        content=jpeg(),
        content_type="image/jpeg",
        width=1200,
        height=800,
        extension=".jpg",
    )
    client.force_login(admin_user)
    assert fetch(client, photo_url(submission, loose.pk)).status_code == 404


# --- audit -------------------------------------------------------------------------------


def test_every_view_is_audited_with_the_upload_and_size(
    client, city, admin_user, submission, upload
):
    client.force_login(admin_user)
    for size in ["thumb", "full", "thumb"]:
        assert fetch(client, photo_url(submission, upload.pk, size)).status_code == 200
    entries = audit_entries(city)
    assert [entry.data for entry in entries] == [
        {"upload": str(upload.pk), "size": "thumb"},
        {"upload": str(upload.pk), "size": "full"},
        {"upload": str(upload.pk), "size": "thumb"},
    ]
    assert {(e.actor, e.target_type, e.target_id) for e in entries} == {
        (admin_user, "procedures.submission", str(submission.pk))
    }


# --- thumbnails ----------------------------------------------------------------------------


def test_thumbnail_is_a_jpeg_of_at_most_320_pixels(client, admin_user, submission, upload):
    client.force_login(admin_user)
    response = fetch(client, photo_url(submission, upload.pk, "thumb"))
    thumbnail = Image.open(io.BytesIO(response.body))
    assert thumbnail.format == "JPEG"
    assert thumbnail.size == (320, 213)


def test_thumbnail_is_kept_in_storage_and_not_decoded_again(client, admin_user, submission, upload):
    client.force_login(admin_user)
    name = upload_thumbnail_name(upload.file.name)
    assert name.endswith(f"/thumbs/{upload.pk}.jpg")
    assert not default_storage.exists(name)
    first = fetch(client, photo_url(submission, upload.pk, "thumb"))
    first_bytes = first.body
    assert default_storage.exists(name)
    with mock.patch.object(media.Image, "open", side_effect=AssertionError("decoded again")):
        second = fetch(client, photo_url(submission, upload.pk, "thumb"))
        assert second.body == first_bytes


def test_thumbnail_of_a_transparent_png_is_laid_on_white(city, submission, upload):
    output = io.BytesIO()
    Image.new("RGBA", (640, 640), (0, 0, 0, 0)).save(output, format="PNG")
    thumbnail = Image.open(io.BytesIO(media._thumbnail_bytes(output.getvalue())))
    assert thumbnail.size == (320, 320)
    assert thumbnail.getpixel((10, 10)) == (255, 255, 255)


def test_a_thumbnail_made_twice_at_once_leaves_one_file(submission, upload):
    name = upload_thumbnail_name(upload.file.name)
    media._save_once(default_storage, name, b"first")
    media._save_once(default_storage, name, b"second")  # the view that lost the race
    folder = name.rsplit("/", 1)[0]
    assert default_storage.listdir(folder)[1] == [name.rsplit("/", 1)[1]]
    with default_storage.open(name, "rb") as kept:
        assert kept.read() == b"first"


def test_a_photo_whose_file_is_gone_is_404(client, admin_user, submission, upload):
    default_storage.delete(upload.file.name)
    client.force_login(admin_user)
    assert fetch(client, photo_url(submission, upload.pk)).status_code == 404
    assert fetch(client, photo_url(submission, upload.pk, "thumb")).status_code == 404


def test_erasing_the_resident_removes_the_thumbnail_too(
    client, city, admin_user, submission, upload
):
    client.force_login(admin_user)
    fetch(client, photo_url(submission, upload.pk, "thumb"))
    original, thumbnail = upload.file.name, upload_thumbnail_name(upload.file.name)
    assert default_storage.exists(thumbnail)
    with tenant_scope(city):
        resident = upload.resident
    with mock.patch("django.db.transaction.on_commit", lambda callback: callback()):
        resident_erase(actor=admin_user, resident=resident)
    assert not default_storage.exists(original)
    assert not default_storage.exists(thumbnail)


# --- the photos include ----------------------------------------------------------------------


def test_photos_include_links_each_thumbnail_to_the_full_photo(city, submission, upload):
    with tenant_scope(city):
        photos = media.submission_photos(submission)
    html = render_to_string("casework/_photos.html", {"photos": photos})
    assert photos == [
        media.PhotoLink(
            label="損傷の写真",
            full_url=photo_url(submission, upload.pk),
            thumb_url=photo_url(submission, upload.pk, "thumb"),
        )
    ]
    assert f'<a href="{photos[0].full_url}"' in html
    assert f'<img src="{photos[0].thumb_url}" alt="損傷の写真"' in html


def test_photos_include_says_when_there_are_none():
    with translation.override("ja"):
        html = render_to_string("casework/_photos.html", {"photos": []})
    assert "写真は送られていません。" in html


def test_the_places_of_a_submission_are_its_location_answers(city, submission):
    with tenant_scope(city):
        points = media.submission_locations(submission)
    assert points == [
        media.MapPoint(label="場所", address="神奈川県座間市緑ケ丘1-1-1", lat=35.446, lon=139.39)
    ]
