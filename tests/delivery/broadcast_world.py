"""Helpers for broadcast tests: many friends at once, known to the product and the simulator."""

from django_scopes import scopes_disabled

from delivery.models import Friend
from delivery.simulator.models import (
    SimulatorChannel,
    SimulatorFriendship,
    SimulatorTranscriptEntry,
    SimulatorUser,
)
from procedures.residents.models import Resident


def area_field(city):
    """The 地区 attribute (north/south) most broadcast and reminder tests segment by."""
    from delivery.broadcasts.models import AttributeField, AttributeKind

    with scopes_disabled():
        return AttributeField.objects.create(
            municipality=city,
            key="area",
            label="地区",
            kind=AttributeKind.CHOICE,
            options=[{"value": "north", "label": "北地区"}, {"value": "south", "label": "南地区"}],
        )


def north_garbage_rule(city, channel, **fields):
    """A 燃やすごみ reminder for the north area (with its 地区 attribute)."""
    from delivery.broadcasts.models import ReminderRule

    area_field(city)
    values = {
        "name": "燃やすごみ（北地区）",
        "attribute_key": "area",
        "attribute_value": "north",
        "message": "{date}は燃やすごみの日です",
        "weekdays": [0, 3],
        **fields,
    }
    with scopes_disabled():
        return ReminderRule.objects.create(municipality=city, channel=channel, **values)


def user_id(prefix: str, n: int) -> str:
    return "U" + f"{prefix}{n:0{32 - len(prefix)}d}"


def make_friends(channel, prefix: str, count: int, *, following: bool = True, **attributes):
    """``count`` residents who added the channel (in LINE and in the product)."""
    sim_channel = SimulatorChannel.objects.get(channel_id=channel.channel_id)
    ids = [user_id(prefix, n) for n in range(count)]
    users = SimulatorUser.objects.bulk_create(
        [SimulatorUser(user_id=uid, display_name=f"住民{uid[-4:]}") for uid in ids]
    )
    status = SimulatorFriendship.Status.FRIEND if following else SimulatorFriendship.Status.BLOCKED
    SimulatorFriendship.objects.bulk_create(
        [SimulatorFriendship(channel=sim_channel, user=user, status=status) for user in users]
    )
    with scopes_disabled():
        people = Resident.objects.bulk_create(
            [Resident(municipality=channel.municipality, attributes=dict(attributes)) for _ in ids]
        )
        Friend.objects.bulk_create(
            [
                Friend(
                    municipality=channel.municipality,
                    channel=channel,
                    line_user_id=uid,
                    resident=person,
                    display_name=f"住民{uid[-4:]}",
                    is_following=following,
                )
                for uid, person in zip(ids, people, strict=True)
            ]
        )
    return ids


def received(user_ids: list[str]) -> dict[str, int]:
    """How many bot messages each of these residents got, by user ID."""
    counts = dict.fromkeys(user_ids, 0)
    rows = SimulatorTranscriptEntry.objects.filter(
        direction="out", user__user_id__in=user_ids
    ).values_list("user__user_id", flat=True)
    for uid in rows:
        counts[uid] += 1
    return counts
