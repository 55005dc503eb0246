"""The LINE preview of a broadcast: the very message objects the sender will send.

Kept apart from selectors because it renders through ``messages.render_for`` (the
function the sender calls), and services already import selectors.
"""

from typing import cast

from django.utils.translation import gettext as _

from delivery.broadcasts.messages import (
    is_personal,
    render_for,
    validate_items,
    validate_procedures,
)
from delivery.broadcasts.models import Broadcast
from govtech.models import Municipality
from procedures.selectors import live_procedures


def sample_display_name() -> str:
    return _("Hanako Yamada")


def broadcast_preview(*, broadcast: Broadcast) -> dict:
    """The rendered messages, ``{display_name}`` shown with a sample name.

    ``personal`` tells the page that each resident gets their own name (sent as one push
    each rather than as multicasts).
    """
    name = sample_display_name()
    personal = is_personal(broadcast.messages)
    note = (
        _("{display_name} is shown as “%(name)s”; each resident sees their own name.")
        % {"name": name}
        if personal
        else ""
    )
    return {
        "messages": render_for(broadcast, display_name=name),
        "personal": personal,
        "sample_name": name,
        "note": note,
        "action_note": _("Buttons work in LINE; the preview does not follow them."),
    }


def items_preview(*, municipality: Municipality, items: object) -> dict:
    """The preview of messages being composed (not saved yet), rendered as the sender would.

    Raises ValidationError, with the reason to show, when the items are not sendable.
    """
    validate_items(items)
    checked = cast(list[dict], items)
    validate_procedures(checked, live_keys=live_procedure_keys(municipality=municipality))
    unsaved = Broadcast(municipality=municipality, messages=checked)
    return broadcast_preview(broadcast=unsaved)


def live_procedure_keys(*, municipality: Municipality) -> set[str]:
    """Keys of the procedures a broadcast's button may start: the municipality's live ones."""
    return set(live_procedures().filter(municipality=municipality).values_list("key", flat=True))
