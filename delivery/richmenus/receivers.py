"""Rich menus follow disaster mode and residents' attributes.

Both signals are sent after their transaction committed; these receivers write the
channel's state row and enqueue tasks, never calling LINE themselves.
"""

from __future__ import annotations

from django.dispatch import receiver

from delivery.disaster.signals import disaster_mode_changed
from delivery.models import Friend, LineChannel
from delivery.richmenus.linking import disaster_mode_record
from govtech.publish import publish_task_on_commit
from govtech.tenancy import tenant_scope
from procedures.residents.signals import resident_attributes_changed

SYNC_TASK = "delivery.tasks.richmenu_sync"
REFRESH_TASK = "delivery.tasks.richmenu_friends_refresh"


@receiver(disaster_mode_changed, dispatch_uid="delivery.richmenus.disaster")
def disaster_menus_follow(sender, municipality, active: bool, actor=None, **kwargs) -> None:
    """Disaster mode on: the disaster menu becomes the default and every friend with a
    menu of their own is linked to it. Off: the everyday default and each friend's own
    menu come back (from ``FriendRichMenu``). A repeated signal changes nothing."""
    with tenant_scope(municipality):
        for channel in LineChannel.objects.all():
            disaster_mode_record(channel=channel, active=active)
            publish_task_on_commit(SYNC_TASK, channel.pk, municipality_id=municipality.pk)


@receiver(resident_attributes_changed, dispatch_uid="delivery.richmenus.attributes")
def resident_menus_follow(sender, resident, **kwargs) -> None:
    """A resident's attributes changed: their segment menu may have too."""
    with tenant_scope(resident.municipality):
        friends = Friend.objects.filter(resident=resident).values_list("channel_id", "pk")
        by_channel: dict[int, list[int]] = {}
        for channel_id, friend_id in friends:
            by_channel.setdefault(channel_id, []).append(friend_id)
    for channel_id, friend_ids in by_channel.items():
        publish_task_on_commit(
            REFRESH_TASK, channel_id, friend_ids, municipality_id=resident.municipality_id
        )
