"""A staff member's own test resident: the one friend their broadcast test sends go to.

Two kinds of account count as a staff member's own on a channel:

- a friend linked to them (``StaffTestResident``): their own LINE account, linked by a
  municipality admin, or
- the simulator account the builder's Try it made for them: its LINE user ID is derived
  from the staff user (``procedures.builder.selectors.trial_line_user_id``), so the same
  test resident serves Try it and test sends.

A test send never reaches anyone else, not even another staff member's test resident.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from delivery.broadcasts.models import StaffTestResident
from delivery.models import Friend, LineChannel
from govtech.models import User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope


def staff_test_friends(*, user: User, channel: LineChannel) -> list[Friend]:
    """The staff member's own test residents that follow ``channel``, oldest first."""
    from procedures.builder.selectors import trial_line_user_id

    with tenant_scope(channel.municipality):
        linked = StaffTestResident.objects.filter(staff=user).values("friend")
        own = Q(pk__in=linked) | Q(line_user_id=trial_line_user_id(user=user))
        friends = Friend.objects.filter(channel=channel, is_test=True, is_following=True)
        return list(friends.filter(own).select_related("channel").order_by("pk"))


def staff_test_resident_link(*, actor: User, staff: User, friend: Friend) -> StaffTestResident:
    """Make ``friend`` the test resident of ``staff`` (marking it a test account). Audited.

    Raises ServiceError when the friend is already another staff member's test resident.
    """
    with tenant_scope(friend.municipality):
        link = StaffTestResident.objects.filter(friend=friend).first()
        if link is not None and link.staff_id != staff.pk:
            raise ServiceError(_("This friend is already another staff member's test resident."))
        if link is None:
            link = StaffTestResident.objects.create(
                municipality=friend.municipality, staff=staff, friend=friend
            )
        Friend.objects.filter(pk=friend.pk).update(is_test=True)
    audit_log(actor, "delivery.stafftestresident.linked", link, {"staff": staff.email})
    return link


def staff_test_resident_simulate(*, actor: User, channel: LineChannel) -> Friend:
    """The actor's test resident in the LINE simulator on ``channel``, created once.

    The same account as the builder's Try it: a simulator user with the actor's trial
    LINE user ID, a friend of the channel there and a following test ``Friend`` here.
    Raises ServiceError where the simulator does not serve the channel (production).
    """
    from delivery.services import friend_test_ensure
    from delivery.simulator import selectors as simulator
    from delivery.simulator.services import simulator_friendship_set, simulator_user_get_or_create
    from procedures.builder.selectors import trial_line_user_id

    enabled = settings.SIMULATOR_ENABLED
    sim_channel = simulator.channel_by_id(channel_id=channel.channel_id) if enabled else None
    if sim_channel is None:
        raise ServiceError(_("The LINE simulator does not serve this channel."))
    user_id = trial_line_user_id(user=actor)
    name = (_("Test resident (%(staff)s)") % {"staff": actor.get_full_name() or actor.email})[:100]
    sim_user = simulator_user_get_or_create(user_id=user_id, display_name=name)
    simulator_friendship_set(channel=sim_channel, user=sim_user, status="friend")
    friend = friend_test_ensure(channel=channel, line_user_id=user_id, display_name=name)
    audit_log(actor, "delivery.friend.test_resident_created", friend, {"channel": channel.pk})
    return friend
