"""factory_boy factories for the core models. Tenant-owned rows are created unscoped."""

import factory
from django_scopes import scopes_disabled

from govtech.models import Department, Municipality, Role, StaffMembership, User
from procedures.residents.models import Resident
from procedures.residents.services import resident_for_handle

PASSWORD = "correct-horse-battery-staple"


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"テスト市{n}")
    slug = factory.Sequence(lambda n: f"test-city-{n}")
    prefecture = "東京都"
    population = 100_000


class ScopelessFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class DepartmentFactory(ScopelessFactory):
    class Meta:
        model = Department

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"課{n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.jp")
    username = factory.SelfAttribute("email")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(ScopelessFactory):
    class Meta:
        model = StaffMembership

    municipality = factory.SubFactory(MunicipalityFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.DESIGNER


def staff_member(municipality: Municipality, *roles: str, email: str | None = None) -> User:
    """A staff user holding ``roles`` in ``municipality``."""
    user = UserFactory(**({"email": email} if email else {}))
    for role in roles:
        MembershipFactory(municipality=municipality, user=user, role=role)
    return user


def resident(of, handle: str = "test:U1", **fields) -> Resident:
    """The resident named ``handle`` (created once, like the terminal's) of a municipality,
    or of the municipality of ``of`` (a resource, a channel…)."""
    municipality = of if isinstance(of, Municipality) else of.municipality
    return resident_for_handle(municipality=municipality, handle=handle, **fields)


def line_friend(channel, line_user_id: str, *, attributes: dict | None = None, **fields):
    """A resident of the channel's municipality and their LINE identity on ``channel``."""
    from delivery.models import Friend

    with scopes_disabled():
        person = Resident.objects.create(
            municipality=channel.municipality,
            attributes=attributes or {},
            is_test=fields.get("is_test", False),
        )
        return Friend.objects.create(
            municipality=channel.municipality,
            channel=channel,
            line_user_id=line_user_id,
            resident=person,
            **fields,
        )
