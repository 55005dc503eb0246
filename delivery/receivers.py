"""Keep the webhook's cached channel in step with the database.

Cache coherence only: any save or delete of a channel (console, services, shell) drops the
cached copy the webhook reads, so a changed secret or mode applies to the next request.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from delivery.inbox import webhook_channel_forget
from delivery.models import LineChannel


@receiver([post_save, post_delete], sender=LineChannel, dispatch_uid="delivery.channel.cache")
def forget_cached_channel(sender, instance: LineChannel, **kwargs) -> None:
    webhook_channel_forget(channel_id=instance.channel_id)
