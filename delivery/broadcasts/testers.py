"""A staff member's own test resident: the one friend their broadcast test sends go to.

Two kinds of account count as a staff member's own on a channel:

- a friend linked to them (``StaffTestResident``): their own LINE account, linked by a
  municipality admin, or
- the simulator account the builder's Try it made for them: its LINE user ID is derived
  from the staff user (``trial_line_user_id``), so the same
  test resident serves Try it and test sends.

A test send never reaches anyone else, not even another staff member's test resident.
"""

from __future__ import annotations

import hashlib

from django.db.models import Q
from django.utils.translation import gettext as _

from delivery.broadcasts.models import StaffTestResident
from delivery.friends import friend_test_ensure
from delivery.models import Friend, LineChannel
from delivery.simulator_adapter import simulator_enabled, simulator_friend_ensure, simulator_serves
from govtech.models import Municipality, User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures.builder.registry import TrialResident


def trial_line_user_id(*, user: User) -> str:
    """A stable LINE user ID (``U`` + 32 hex) for a staff member's test resident."""
    digest = hashlib.sha256(f"govtech-builder-test:{user.pk}".encode()).hexdigest()
    return "U" + digest[:32]


def staff_test_friends(*, user: User, channel: LineChannel) -> list[Friend]:
    """The staff member's own test residents that follow ``channel``, oldest first."""
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


def simulator_channel_for(*, municipality: Municipality) -> LineChannel | None:
    """The municipality's LINE channel that the local simulator serves, if any.

    None where the simulator is off (production): Try it needs it.
    """
    if not simulator_enabled():
        return None
    with tenant_scope(municipality):
        channels = list(LineChannel.objects.filter(municipality=municipality).order_by("pk"))
    return next((c for c in channels if simulator_serves(channel_id=c.channel_id)), None)


def _simulated_test_friend(actor: User, channel: LineChannel) -> Friend:
    user_id = trial_line_user_id(user=actor)
    name = (_("Test resident (%(staff)s)") % {"staff": actor.get_full_name() or actor.email})[:100]
    simulator_friend_ensure(channel_id=channel.channel_id, user_id=user_id, display_name=name)
    return friend_test_ensure(channel=channel, line_user_id=user_id, display_name=name)


def staff_test_resident_simulate(*, actor: User, channel: LineChannel) -> Friend:
    """The actor's test resident in the LINE simulator on ``channel``, created once.

    The same account as the builder's Try it: a simulator user with the actor's trial
    LINE user ID, a friend of the channel there and a following test ``Friend`` here.
    Raises ServiceError where the simulator does not serve the channel (production).
    """
    friend = _simulated_test_friend(actor, channel)
    audit_log(actor, "delivery.friend.test_resident_created", friend, {"channel": channel.pk})
    return friend


class SimulatorTrialResidents:
    """The builder's Try it (procedures.builder.registry): the designer's test resident
    on the municipality's simulator channel, the same one broadcast test sends reach."""

    def trial_resident(self, *, actor: User, municipality: Municipality) -> TrialResident:
        channel = simulator_channel_for(municipality=municipality)
        if channel is None:
            raise ServiceError(_("No LINE simulator channel is connected to this municipality."))
        friend = _simulated_test_friend(actor, channel)
        return TrialResident(
            resident=friend.resident, channel_id=channel.channel_id, user_id=friend.line_user_id
        )
