"""TenantTask: a task enters its municipality's scope from an id, and sees nothing else."""

import pytest
import time_machine
from celery import shared_task
from django_scopes import ScopeError

from govtech.models import Department, Municipality
from govtech.tasks import TenantTask
from govtech.tenancy import tenant_scope
from procedures.reservations.models import Slot, WaitlistOffer
from procedures.reservations.services import waitlist_join
from procedures.reservations.tasks import offer_freed_place
from procedures.residents.models import Notice
from procedures.residents.tasks import send_notice
from tests.factories import DepartmentFactory, resident
from tests.procedures.reservation_fixtures import NOW, TEN, make_resource

pytestmark = pytest.mark.django_db


@shared_task(name="tests.govtech.department_codes", base=TenantTask)
def department_codes(*, municipality_id: int) -> list[str]:
    return sorted(Department.objects.values_list("code", flat=True))


@shared_task(name="tests.govtech.department_name", base=TenantTask, legacy_row_model=Department)
def department_name(department_id: int, *, municipality_id: int) -> str | None:
    department = Department.objects.filter(pk=department_id).first()
    return f"{municipality_id}:{department.name}" if department else None


@pytest.fixture
def departments(city, other_town):
    DepartmentFactory(municipality=city, code="kodomo", name="こども課")
    DepartmentFactory(municipality=other_town, code="kankyo", name="環境課")


def test_the_body_runs_in_its_municipalitys_scope_and_sees_no_other(
    city, other_town, departments, eager_celery
):
    assert department_codes.delay(municipality_id=city.pk).get() == ["kodomo"]
    assert department_codes.delay(municipality_id=other_town.pk).get() == ["kankyo"]


def test_another_municipalitys_row_is_not_found_by_id(city, other_town, departments):
    with tenant_scope(city):
        kodomo = Department.objects.get()

    assert department_name(kodomo.pk, municipality_id=other_town.pk) is None
    assert department_name(kodomo.pk, municipality_id=city.pk) == f"{city.pk}:こども課"


def test_a_municipality_without_rows_sees_nothing(departments):
    outsider = Municipality.objects.create(name="外", slug="outsider", prefecture="北海道")
    assert department_codes(municipality_id=outsider.pk) == []


def test_the_scope_ends_with_the_task(city, departments):
    department_codes(municipality_id=city.pk)
    with pytest.raises(ScopeError):
        list(Department.objects.all())


def test_a_message_queued_without_municipality_id_finds_it_from_its_row(city, departments):
    """As queued by the release before the task took municipality_id."""
    with tenant_scope(city):
        kodomo = Department.objects.get()
    assert department_name.apply(args=[kodomo.pk]).get() == f"{city.pk}:こども課"


def test_a_task_without_municipality_id_or_a_row_to_find_it_refuses_to_run(departments):
    with pytest.raises(TypeError, match="needs municipality_id"):
        department_codes()


def test_a_deleted_municipality_runs_nothing(city, departments):
    gone = city.pk
    Municipality.objects.filter(pk=gone).delete()
    assert department_codes(municipality_id=gone) is None


def test_a_notice_cannot_be_sent_under_another_municipalitys_id(city, other_town, notices):
    person = resident(city, "test:W1")
    with tenant_scope(city):
        notice = Notice.objects.create(
            municipality=city, resident=person, once_key="offer:1", prompts=[]
        )

    assert send_notice(notice.pk, municipality_id=other_town.pk) == "missing"
    with tenant_scope(city):
        assert Notice.objects.get().status == "pending"
    assert send_notice(notice.pk, municipality_id=city.pk) == "sent"
    assert [who for who, _prompts in notices.sent] == [person]


def test_a_freed_place_is_offered_only_under_its_own_municipalitys_id(city, other_town):
    resource = make_resource(city, key="kodomo-hiroba", capacity=0)
    with tenant_scope(city):
        entry = waitlist_join(
            resource=resource, starts_at=TEN, resident=resident(city, "test:W1"), now=NOW
        )
        Slot.objects.filter(pk=entry.slot_id).update(capacity=1)  # a place is freed

    with time_machine.travel(NOW, tick=False):
        assert offer_freed_place(entry.slot_id, municipality_id=other_town.pk) is None
        with tenant_scope(city):
            assert not WaitlistOffer.objects.exists()
        assert offer_freed_place(entry.slot_id, municipality_id=city.pk) is not None
