"""A resident's LINE identities: the Friend rows, each linked to a procedures Resident."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery.line_api import LineApiError, LineClient
from delivery.models import Friend, LineChannel
from govtech.tenancy import tenant_scope
from procedures.languages import profile_language
from procedures.residents.selectors import offered_languages
from procedures.residents.services import resident_create

logger = logging.getLogger(__name__)


def friend_ensure(*, channel: LineChannel, line_user_id: str, client: LineClient) -> Friend:
    """The Friend row of a resident, created (with their LINE profile) on first contact."""
    friend = Friend.objects.filter(channel=channel, line_user_id=line_user_id).first()
    return friend or friend_first_contact(channel=channel, line_user_id=line_user_id, client=client)


def friend_first_contact(*, channel: LineChannel, line_user_id: str, client: LineClient) -> Friend:
    """The Friend row of a resident the caller just found missing: their LINE profile
    (outside any transaction), then the resident and the friend, or the row a parallel
    task created meanwhile."""
    try:
        profile = client.profile(line_user_id)
    except LineApiError as exc:  # the profile is a nicety; the conversation must go on
        logger.warning("profile of %s unavailable: %s", line_user_id, exc)
        profile = {}
    try:
        with transaction.atomic():  # the resident and their LINE identity, or neither
            friend = Friend(
                municipality=channel.municipality,
                channel=channel,
                line_user_id=line_user_id,
                followed_at=timezone.now(),
                **profile,
            )
            friend.resident = resident_create(
                municipality=channel.municipality,
                language=profile_language(
                    friend.language, offered=offered_languages(channel.municipality)
                ),
                display_name=friend.display_name,
            )
            friend.save()
            return friend
    except IntegrityError:  # a parallel task created it first
        return Friend.objects.get(channel=channel, line_user_id=line_user_id)


def friend_test_ensure(*, channel: LineChannel, line_user_id: str, display_name: str) -> Friend:
    """A staff member's test resident on ``channel`` (``is_test``), following; idempotent.

    Used by the builder's Try it: the designer's simulator account must be a friend of
    the municipality's account before the draft's first question is pushed to it.
    """
    with tenant_scope(channel.municipality):
        try:
            with transaction.atomic():
                friend = Friend.objects.filter(channel=channel, line_user_id=line_user_id).first()
                if friend is None:
                    friend = Friend.objects.create(
                        municipality=channel.municipality,
                        channel=channel,
                        line_user_id=line_user_id,
                        resident=resident_create(
                            municipality=channel.municipality,
                            is_test=True,
                            display_name=display_name,
                        ),
                        display_name=display_name,
                        followed_at=timezone.now(),
                        is_test=True,
                    )
        except IntegrityError:  # created by a parallel request
            friend = Friend.objects.get(channel=channel, line_user_id=line_user_id)
        if not friend.is_following:
            friend.is_following, friend.unfollowed_at = True, None
            friend.save(update_fields=["is_following", "unfollowed_at"])
    return friend
