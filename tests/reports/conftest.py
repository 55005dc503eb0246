"""Fixtures for exports: a procedure published three times with diverging steps, and
submissions stored directly (the engine is not what these tests are about)."""

from __future__ import annotations

import copy
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from govtech.tenancy import tenant_scope
from procedures.models import Procedure, ProcedureVersion, Submission
from tests.factories import DepartmentFactory
from tests.factories import resident as resident_of

TOKYO = ZoneInfo("Asia/Tokyo")
SUBMITTED = datetime(2026, 11, 20, 9, 30, tzinfo=TOKYO)
_references = count(1)


def _step(step_id, kind, label, **more):
    return {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": label}, **more}


def _options(*pairs):
    return [{"value": value, "label": {"ja": label}} for value, label in pairs]


V1 = {
    "format": "govtech.procedure.v1",
    "key": "pet-register",
    "kind": "application",
    "title": {"ja": "犬の登録申請"},
    "languages": ["ja"],
    "fee": 3000,
    "steps": [
        _step("owner", "text", "氏名"),
        _step("breed", "choice", "犬種", options=_options(("shiba", "柴犬"), ("akita", "秋田犬"))),
        _step("colors", "multi_choice", "毛色", options=_options(("red", "赤"), ("white", "白"))),
        _step("count", "number", "頭数"),
        {"id": "confirm", "type": "confirm"},
    ],
}
V2 = copy.deepcopy(V1)
V2["steps"] = [
    _step("owner", "text", "飼い主の氏名"),
    _step("breed", "choice", "犬種", options=_options(("shiba", "柴犬"), ("akita", "秋田犬"))),
    _step("colors", "multi_choice", "毛色", options=_options(("white", "白"), ("black", "黒"))),
    _step("place", "location", "飼育場所"),
    {"id": "confirm", "type": "confirm"},
]
V3 = copy.deepcopy(V2)
V3["steps"] = [
    _step("phone", "phone", "電話番号"),
    *V2["steps"][:4],
    _step("photo", "image", "写真", required=False),
    {"id": "confirm", "type": "confirm"},
]
V3["steps"][1] = _step("owner", "text", "飼い主氏名")


@pytest.fixture
def kodomo(city):
    return DepartmentFactory(municipality=city, code="kodomo", name="こども課")


@pytest.fixture
def doro(city):
    return DepartmentFactory(municipality=city, code="doro", name="道路課")


@pytest.fixture
def pets(city, kodomo):
    """The procedure, published three times (V1, V2, V3), of こども課."""
    with tenant_scope(city):
        procedure = Procedure.objects.create(
            municipality=city, department=kodomo, key="pet-register", draft=V3
        )
        versions = [
            ProcedureVersion.objects.create(
                municipality=city, procedure=procedure, number=n, document=document
            )
            for n, document in enumerate((V1, V2, V3), start=1)
        ]
        procedure.live_version = versions[-1]
        procedure.save(update_fields=["live_version"])
    procedure.test_versions = versions
    return procedure


def submit(procedure, version: int, answers: dict, *, when=SUBMITTED, **fields) -> Submission:
    """A submission of ``procedure`` answered on version number ``version``."""
    city = procedure.municipality
    with tenant_scope(city):
        pinned = procedure.versions.get(number=version)
        reference = f"R-{next(_references):06d}"
        submission = Submission.objects.create(
            municipality=city,
            reference=reference,
            procedure=procedure,
            version=pinned,
            resident=resident_of(city, f"line:test:{reference}"),
            answers=answers,
            fee=pinned.document.get("fee"),
            channel=fields.pop("channel", "line"),
            department_id=procedure.department_id,
            **fields,
        )
        Submission.objects.filter(pk=submission.pk).update(submitted_at=when)
        submission.refresh_from_db()
    return submission


@pytest.fixture
def scope(city):
    with tenant_scope(city):
        yield city
