"""A staff member's own test resident: the one friend their broadcast test sends go to.

Two kinds of account count as a staff member's own on a channel:

- a friend linked to them (``StaffTestResident``): their own LINE account, linked by a
  municipality admin, or by themselves with a one-time code sent from that account
  (``tester_code_issue`` / ``tester_code_claim``), or
- the simulator account the builder's Try it made for them: its LINE user ID is derived
  from the staff user (``trial_line_user_id``), so the same
  test resident serves Try it and test sends.

A test send never reaches anyone else, not even another staff member's test resident.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from delivery.broadcasts.models import StaffTestResident, TesterCode
from delivery.friends import friend_test_ensure
from delivery.models import Friend, LineChannel
from delivery.simulator_adapter import simulator_enabled, simulator_friend_ensure, simulator_serves
from govtech.models import Municipality, User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.builder.registry import TrialResident
from procedures.models import DraftTrial
from procedures.residents.models import Resident


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
        # A draft only ever reaches a test resident (procedures.runtime checks it).
        Resident.objects.filter(pk=friend.resident_id).update(is_test=True)
    friend.is_test = friend.resident.is_test = True
    audit_log(actor, "delivery.stafftestresident.linked", link, {"staff": staff.email})
    return link


def staff_test_resident_unlink(*, actor: User, link: StaffTestResident) -> None:
    """Stop using a LINE account as a tester: the link goes, the account is a resident's
    like any other again (its earlier test submissions stay marked as tests), and its
    open draft trials end. Audited."""
    with tenant_scope(link.municipality):
        friend = link.friend
        link.delete()
        Friend.objects.filter(pk=friend.pk).update(is_test=False)
        Resident.objects.filter(pk=friend.resident_id).update(is_test=False)
        DraftTrial.objects.filter(resident=friend.resident_id, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    audit_log(actor, "delivery.stafftestresident.unlinked", friend, {"staff": actor.email})


# --- registering one's own LINE account with a one-time code ---------------------------------

TESTER_CODE_MINUTES = 15
TESTER_CODE = re.compile(r"^\s*(?:テスター登録|tester)\s*(\d{8})\s*$", re.IGNORECASE)


def _code_hash(municipality: Municipality, digits: str) -> str:
    return hashlib.sha256(f"govtech-tester:{municipality.pk}:{digits}".encode()).hexdigest()


def tester_code_issue(*, actor: User, municipality: Municipality) -> str:
    """A one-time code (the message to send from LINE) that links the LINE account
    sending it to ``actor`` as their tester, valid for 15 minutes; earlier unused codes
    of the actor stop working. Only a hash is stored. Audited."""
    digits = f"{secrets.randbelow(10**8):08d}"
    with tenant_scope(municipality):
        TesterCode.objects.filter(staff=actor, used_at__isnull=True).delete()
        TesterCode.objects.create(
            municipality=municipality,
            staff=actor,
            code_hash=_code_hash(municipality, digits),
            expires_at=timezone.now() + timedelta(minutes=TESTER_CODE_MINUTES),
        )
    audit_log(actor, "delivery.testercode.issued", None, {"municipality": municipality.slug})
    return f"テスター登録 {digits}"


def tester_code_claim(*, friend: Friend, text: str) -> list[engine.Prompt] | None:
    """When ``text`` is a tester code (「テスター登録 12345678」): link the sending friend
    to the staff member who issued it, once, and say so; a code that is unknown, used,
    expired or another municipality's links nothing. None for any other text.

    Runs in the turn's transaction (rows only, no network)."""
    match = TESTER_CODE.match(text)
    if match is None:
        return None
    now = timezone.now()
    code = TesterCode.objects.filter(
        code_hash=_code_hash(friend.municipality, match.group(1)),
        used_at__isnull=True,
        expires_at__gt=now,
    ).first()
    claimed = code is not None and TesterCode.objects.filter(
        pk=code.pk, used_at__isnull=True
    ).update(used_at=now)
    with override(friend.conversation_language):
        if not claimed or code is None:
            return [
                engine.TextPrompt(
                    _(
                        "This tester code cannot be used: it is wrong, used or expired."
                        " Ask for a new one in the console."
                    )
                )
            ]
        try:
            staff_test_resident_link(actor=code.staff, staff=code.staff, friend=friend)
        except ServiceError as refused:
            return [engine.TextPrompt(str(refused))]
        text = _(
            "This LINE account is now the tester of %(staff)s. Drafts tried with “Try in"
            " LINE” in the builder come here; send “テスト終了” to stop trying them."
        ) % {"staff": code.staff.get_full_name() or code.staff.email}
    return [engine.TextPrompt(text)]


class LineTesterAccounts:
    """「LINEで試す」 (procedures.builder.registry): the staff member's own LINE accounts
    linked as testers, on every channel of the municipality, that follow it."""

    def tester_residents(self, *, actor: User, municipality: Municipality) -> list[TrialResident]:
        with tenant_scope(municipality):
            links = StaffTestResident.objects.filter(staff=actor, friend__is_following=True)
            friends = [
                link.friend for link in links.select_related("friend__resident", "friend__channel")
            ]
        return [
            TrialResident(
                resident=f.resident, channel_id=f.channel.channel_id, user_id=f.line_user_id
            )
            for f in friends
        ]

    def registration_url(self) -> str:
        return reverse("admin:delivery_stafftestresident_mine")


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
