"""The product's one door to the LINE simulator, an optional app (docs/decisions/0012).

The simulator (``delivery.simulator``) is installed only where ``SIMULATOR_ENABLED``,
never in production, and its models cannot even be imported where it is not installed.
So production code asks here whether it is there and what it should do, and nothing
outside the simulator imports it (an import-linter contract in pyproject.toml keeps it so).
Each function imports the simulator inside its body, after checking that it is installed:
that is the point of the adapter, not a hidden import cycle.

Where the simulator is absent, the questions answer "no" and the actions raise
``SimulatorUnavailable`` (a ``ServiceError``: its message is safe to show to staff).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from govtech.services import ServiceError

SIMULATOR_APP = "delivery.simulator"


class SimulatorUnavailable(ServiceError):
    """The simulator is not installed here, or does not play LINE for that channel."""


@dataclass(frozen=True)
class SimulatedChannel:
    """The credentials of a channel as the simulator plays it; the product's LineChannel
    must hold the same to talk to it."""

    channel_id: str
    channel_secret: str
    access_token: str
    bot_user_id: str


def simulator_enabled() -> bool:
    """Whether the simulator is installed in this process (never in production)."""
    return apps.is_installed(SIMULATOR_APP)


def simulator_serves(*, channel_id: str) -> bool:
    """Whether the simulator plays LINE for this channel; False where it is not installed."""
    if not simulator_enabled():
        return False
    from delivery.simulator.selectors import channel_by_id

    return channel_by_id(channel_id=channel_id) is not None


def simulator_channel_serve(
    *,
    channel_id: str,
    name: str,
    municipality: str,
    webhook_url: str = "",
    channel_secret: str | None = None,
    access_token: str | None = None,
    bot_user_id: str | None = None,
) -> SimulatedChannel:
    """Have the simulator play LINE for this channel: created, or updated with the values
    given (credentials left as None are generated once, then kept). Idempotent.

    Raises SimulatorUnavailable where the simulator is not installed.
    """
    _require_simulator()
    from delivery.simulator.services import simulator_channel_create

    simulated = simulator_channel_create(
        channel_id=channel_id,
        name=name,
        municipality=municipality,
        webhook_url=webhook_url,
        channel_secret=channel_secret,
        channel_access_token=access_token,
        bot_user_id=bot_user_id,
    )
    return SimulatedChannel(
        channel_id=simulated.channel_id,
        channel_secret=simulated.channel_secret,
        access_token=simulated.channel_access_token,
        bot_user_id=simulated.bot_user_id,
    )


def simulator_friend_ensure(*, channel_id: str, user_id: str, display_name: str) -> None:
    """A simulated LINE account with this user ID that follows the channel (unblocked if it
    had blocked it). Idempotent; an existing account keeps its name.

    Raises SimulatorUnavailable where the simulator is not installed or does not play
    LINE for the channel.
    """
    _require_simulator()
    from delivery.simulator import selectors, services

    channel = selectors.channel_by_id(channel_id=channel_id)
    if channel is None:
        raise SimulatorUnavailable(_("The LINE simulator does not serve this channel."))
    user = services.simulator_user_get_or_create(user_id=user_id, display_name=display_name)
    services.simulator_friendship_set(channel=channel, user=user, status="friend")


def simulator_chat_url(*, channel_id: str, user_id: str) -> str | None:
    """The simulator's chat page as this resident; None where it is not installed."""
    if not simulator_enabled():
        return None
    query = urlencode({"channel": channel_id, "user": user_id})
    return f"{reverse('simulator:chat')}?{query}"


def _require_simulator() -> None:
    if not simulator_enabled():
        raise SimulatorUnavailable(_("The LINE simulator is not enabled in these settings."))
