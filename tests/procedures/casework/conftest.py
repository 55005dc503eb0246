"""Fixtures for casework: a published procedure and residents who submitted it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.factories import resident as resident_record
from tests.procedures.docs import pet_registration

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def pet_procedure(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def submit_pet(municipality, name="U1", *, owner="山田太郎", lang="ja", now=NOW):
    """A resident sends the pet registration (owner ``owner``, change 住所, no photo)."""
    person = resident_record(municipality, f"line:test:{name}", language=lang)
    last = None
    for text in ("犬の届出", owner, "住所", "スキップ", "送信"):
        last = resident_input(
            municipality=municipality,
            resident=person,
            inp=engine.TextInput(text),
            lang=lang,
            now=now,
        )
    assert last is not None and last.submission is not None, last
    return last.submission


@pytest.fixture
def submission(city, pet_procedure):
    return submit_pet(city)


@pytest.fixture
def scope(city):
    with tenant_scope(city):
        yield city
