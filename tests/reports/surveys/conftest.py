"""A survey published twice (the second version adds a choice and an option), answered
by six residents of two areas, plus a withdrawn answer and a designer's test that must
not count. Submissions are stored directly: the engine is not what these tests are about.

Hand count of what counts (submissions 1-6):
  sat      a 3 (1, 2, 6) · b 1 (3) · c 1 (5) · d 1 (4)           answered 6
  reasons  wait 2 (1, 2) · staff 2 (2, 5) · forms 2 (4, 5)        answered 4
  age      29 · 34 · 34 · 35 · 40 · 41                            answered 6
  visit    11/02 · 11/03 · 11/03 · 11/10                          answered 4
  comment  1, 3, 6                                                answered 3
  ok       yes 4 (1, 2, 4, 6) · no 2 (3, 5)                       answered 6
  area     north: 1, 2, 5, 6 · south: 3, 4
"""

# ruff: noqa: E501 - the fixture reads best one answer a line

from __future__ import annotations

import copy
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.tenancy import tenant_scope
from procedures.models import Procedure, ProcedureVersion, Submission
from procedures.residents.models import Resident
from tests.factories import DepartmentFactory
from tests.factories import resident as resident_of

TOKYO = ZoneInfo("Asia/Tokyo")
_references = count(1)


def _step(step_id, kind, label, **more):
    return {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": label}, **more}


def _options(*pairs):
    return [{"value": value, "label": {"ja": label}} for value, label in pairs]


V1 = {
    "format": "govtech.procedure.v1",
    "key": "satisfaction",
    "kind": "survey",
    "title": {"ja": "窓口満足度調査"},
    "languages": ["ja"],
    "steps": [
        _step("sat", "choice", "満足度", options=_options(("a", "満足"), ("b", "ふつう"), ("c", "不満"))),
        _step("reasons", "multi_choice", "理由", required=False, options=_options(("wait", "待ち時間"), ("staff", "職員"))),
        _step("age", "number", "年齢"),
        _step("visit", "date", "来庁日", required=False),
        _step("comment", "text", "ご意見", required=False),
        _step("ok", "yes_no", "また利用したいですか"),
        {"id": "thanks", "type": "message", "message": {"ja": "ありがとうございました"}},
    ],
}  # fmt: skip
V2 = copy.deepcopy(V1)
V2["steps"][0]["options"].append({"value": "d", "label": {"ja": "とても不満"}})
V2["steps"][1]["options"].append({"value": "forms", "label": {"ja": "書類"}})

ANSWERS = [
    # (version, area, day of November, answers)
    (1, "north", 2, {"sat": "a", "reasons": ["wait"], "age": 34, "visit": "2026-11-02", "comment": "待ち時間が長い", "ok": True}),
    (1, "north", 3, {"sat": "a", "reasons": ["wait", "staff"], "age": 35, "visit": "2026-11-03", "ok": True}),
    (1, "south", 5, {"sat": "b", "age": 41, "comment": "駐車場が狭い", "ok": False}),
    (2, "south", 12, {"sat": "d", "reasons": ["forms"], "age": 40, "visit": "2026-11-03", "ok": True}),
    (2, "north", 13, {"sat": "c", "reasons": ["staff", "forms"], "age": 29, "ok": False}),
    (2, "north", 20, {"sat": "a", "age": 34, "visit": "2026-11-10", "comment": "とても親切でした", "ok": True}),
]  # fmt: skip


@pytest.fixture
def kikaku(city):
    return DepartmentFactory(municipality=city, code="kikaku", name="企画課")


@pytest.fixture
def doro(city):
    return DepartmentFactory(municipality=city, code="doro", name="道路課")


@pytest.fixture
def area(city):
    with tenant_scope(city):
        return AttributeField.objects.create(
            municipality=city,
            key="area",
            label="地区",
            kind=AttributeKind.CHOICE,
            options=[{"value": "north", "label": "北地区"}, {"value": "south", "label": "南地区"}],
        )


@pytest.fixture
def survey(city, kikaku):
    """The survey, published as V1 then V2, of 企画課."""
    with tenant_scope(city):
        procedure = Procedure.objects.create(
            municipality=city, department=kikaku, key="satisfaction", draft=V2
        )
        versions = [
            ProcedureVersion.objects.create(
                municipality=city, procedure=procedure, number=n, document=document
            )
            for n, document in enumerate((V1, V2), start=1)
        ]
        procedure.live_version = versions[-1]
        procedure.save(update_fields=["live_version"])
    return procedure


def answer(procedure, version: int, answers: dict, *, area="", day=2, **fields) -> Submission:
    """A submission of ``procedure`` answered on version ``version`` by a new resident of
    ``area`` on ``day`` November 2026 (10:00 Japan time)."""
    city = procedure.municipality
    with tenant_scope(city):
        reference = f"S-{next(_references):06d}"
        person = resident_of(city, f"line:test:{reference}")
        Resident.objects.filter(pk=person.pk).update(attributes={"area": area} if area else {})
        submission = Submission.objects.create(
            municipality=city,
            reference=reference,
            procedure=procedure,
            version=procedure.versions.get(number=version),
            resident=person,
            answers=answers,
            channel="line",
            **fields,
        )
        when = datetime(2026, 11, day, 10, 0, tzinfo=TOKYO)
        Submission.objects.filter(pk=submission.pk).update(submitted_at=when)
    return submission


@pytest.fixture
def answered(survey, area):
    """The six answers that count, a withdrawn one and a designer's test."""
    made = [answer(survey, v, answers, area=where, day=day) for v, where, day, answers in ANSWERS]
    answer(survey, 2, {"sat": "c", "age": 50, "ok": False}, area="south", status="withdrawn")
    answer(survey, 2, {"sat": "c", "age": 50, "ok": False}, area="south", is_test=True)
    return made
