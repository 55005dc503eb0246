"""A city that publishes its reports, for the public page and Open311 tests: a public
category (道路) and a private one (ハラスメント), each with a published report procedure,
and reports sent through LINE's runtime (with the reporter's name, words, phone, exact
place and a photo) or posted through the API service.

``Reporter`` holds every piece of the reporter's identity a test asserts is never shown.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from PIL import Image

from govtech.models import Municipality, User
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.incidents.intake import ApiReport, report_submit_from_api
from procedures.incidents.models import (
    Report,
    ReportCategory,
    ReportPhoto,
    ReportPhotoKind,
    ReportSettings,
)
from procedures.models import Submission
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish, resident_upload_store
from tests.factories import resident as resident_of

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=TOKYO)


def _step(step_id: str, kind: str, label: str, **more) -> dict:
    return {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": label}, **more}


def report_document(key: str, title: str, keyword: str) -> dict:
    options = [
        {"value": "pothole", "label": {"ja": "路面の穴"}},
        {"value": "light", "label": {"ja": "街路灯"}},
    ]
    return {
        "format": "govtech.procedure.v1",
        "key": key,
        "kind": "report",
        "title": {"ja": title},
        "languages": ["ja"],
        "triggers": {"keywords": [keyword]},
        "steps": [
            _step("kind", "choice", "種類", options=options),
            _step("detail", "text", "内容"),
            _step("place", "location", "場所"),
            _step("photo", "image", "写真", required=False),
            _step("count", "number", "個数", required=False),
            _step("phone", "phone", "電話番号", required=False),
            {"id": "confirm", "type": "confirm"},
        ],
    }


@dataclass(frozen=True)
class Reporter:
    """Who reported and what only they and the city may know."""

    handle: str
    name: str
    detail: str
    phone: str
    latitude: float
    longitude: float
    address: str


TARO = Reporter(
    handle="line:test:Utaro",
    name="山田太郎",
    detail="山田さん宅の前の穴",
    phone="09012345678",
    latitude=35.681236,
    longitude=139.767125,
    address="東京都千代田区丸の内1-9-1",
)
HANAKO = Reporter(
    handle="line:test:Uhanako",
    name="佐藤花子",
    detail="隣人の佐藤に嫌がらせを受けている",
    phone="08087654321",
    latitude=35.690921,
    longitude=139.700258,
    address="東京都新宿区西新宿2-8-1",
)


def jpeg(color=(200, 30, 30)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(output, "JPEG")
    return output.getvalue()


@dataclass
class World:
    city: Municipality
    settings: ReportSettings
    roads: ReportCategory
    private: ReportCategory


def build_world(city: Municipality, designer: User, *, precision_m: int = 100) -> World:
    """The city publishing its reports, with its two categories and their procedures."""
    categories = []
    for key, name, keyword, public in (
        ("road", "道路", "道路通報", True),
        ("harassment", "ハラスメント", "相談通報", False),
    ):
        procedure = procedure_create(
            actor=designer,
            municipality=city,
            document=report_document(f"{key}-report", f"{name}の通報", keyword),
        )
        procedure_publish(actor=designer, procedure=procedure)
        with tenant_scope(city):
            categories.append(
                ReportCategory.objects.create(
                    municipality=city, key=key, name=name, procedure=procedure, is_public=public
                )
            )
    with tenant_scope(city):
        settings = ReportSettings.objects.create(
            municipality=city, public_enabled=True, public_precision_m=precision_m
        )
    return World(city=city, settings=settings, roads=categories[0], private=categories[1])


def report_by_line(city: Municipality, reporter: Reporter, keyword: str = "道路通報") -> Report:
    """A report sent through LINE's runtime: choice, words, place, photo, phone."""
    resident = resident_of(city, reporter.handle, display_name=reporter.name)
    upload_id = uuid.uuid4()
    resident_upload_store(
        upload_id=upload_id,
        municipality=city,
        resident=resident,
        content=jpeg(),
        content_type="image/jpeg",
        width=64,
        height=48,
        extension=".jpg",
    )
    inputs = [
        engine.TextInput(keyword),
        engine.TextInput("路面の穴"),
        engine.TextInput(reporter.detail),
        engine.LocationInput(reporter.latitude, reporter.longitude, address=reporter.address),
        engine.ImageInput(ref=str(upload_id)),
        engine.TextInput("2"),
        engine.TextInput(reporter.phone),
        engine.TextInput("送信"),
    ]
    for inp in inputs:
        reply = resident_input(municipality=city, resident=resident, inp=inp, lang="ja", now=NOW)
    assert reply.submission is not None, reply
    with tenant_scope(city):
        return Report.objects.select_related("submission").get(submission=reply.submission)


def report_by_api(category: ReportCategory, latitude: float, longitude: float, **more) -> Report:
    """A report posted through the API service (as Open311 does)."""
    report = ApiReport(
        reporter_handle=more.pop("handle", f"open311:0:{uuid.uuid4().hex}"),
        latitude=latitude,
        longitude=longitude,
        attributes=more.pop("attributes", {"kind": "light"}),
        **more,
    )
    submission = report_submit_from_api(category=category, report=report, now=NOW)
    with tenant_scope(category.municipality):
        return Report.objects.select_related("submission").get(submission=submission)


def approved_photo(report: Report, *, public: bool = True) -> ReportPhoto:
    """An "after" photo of ``report``, approved for the public or not."""
    with tenant_scope(report.municipality):
        photo = ReportPhoto(
            municipality_id=report.municipality_id,
            report=report,
            kind=ReportPhotoKind.AFTER,
            content_type="image/jpeg",
            is_public=public,
            created_at=NOW,
        )
        photo.file.save("after.jpg", ContentFile(jpeg((30, 160, 60))), save=False)
        photo.save()
        return photo


def set_status(report: Report, status: str) -> None:
    with tenant_scope(report.municipality):
        Submission.objects.filter(pk=report.submission_id).update(status=status)
