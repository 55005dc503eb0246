"""Helpers of the disaster mode tests: residents of two areas, shelters with a status."""

from django_scopes import scopes_disabled

from delivery.disaster.models import DisasterSettings, Shelter
from delivery.models import Friend
from delivery.spots.models import Spot
from procedures.residents.models import Resident
from tests.delivery.broadcast_world import area_field


def prepare(city, *, second_person: bool = False) -> DisasterSettings:
    """demo-city's settings: 地区 (north/south) as the area attribute."""
    area = area_field(city)
    with scopes_disabled():
        return DisasterSettings.objects.create(
            municipality=city, area_field=area, second_person_required=second_person
        )


def friends(channel, prefix: str, count: int, **attributes) -> list[Friend]:
    """``count`` following friends of the channel (product side only), with attributes."""
    with scopes_disabled():
        made = []
        for n in range(count):
            person = Resident.objects.create(
                municipality=channel.municipality,
                display_name=f"{prefix}{n}",
                attributes=attributes,
            )
            made.append(
                Friend.objects.create(
                    municipality=channel.municipality,
                    channel=channel,
                    resident=person,
                    line_user_id="U" + f"{prefix}{n}".rjust(32, "0"),
                    display_name=f"{prefix}{n}",
                )
            )
        return made


def shelter(city, name: str, latitude: float, longitude: float, status: str, **spot) -> Shelter:
    with scopes_disabled():
        place = Spot.objects.create(
            municipality=city,
            kind="shelter",
            source_id=name,
            name=name,
            latitude=latitude,
            longitude=longitude,
            **spot,
        )
        return Shelter.objects.create(municipality=city, spot=place, status=status)
