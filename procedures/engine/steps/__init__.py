"""The step-type registry: what each `type` of step asks, accepts and shows.

A step type is a `StepType` subclass registered with `@register`; the machine and the
format checks only ever call `step_type(step["type"])` — there are no `if type == …`
chains. To add a type, subclass, set `name`, implement `prompt`/`parse`/`validate`/
`summarize`, and register it.

Stored answers are JSON values: text/email/phone/postal_code as str (phone as digits
only), number as int, date as ISO `YYYY-MM-DD`, time as `HH:MM`, choice as the option
value, multi_choice as a list of option values in document order, yes_no and consent
as bool, image as `{"ref", "content_type"}`, location as
`{"latitude", "longitude", "address", "title"}` (coordinates are null when the
resident typed an address instead of sharing a location).

Reasons given in `InvalidAnswer` are translated with Django's gettext; the machine
activates the conversation's language around every call.

The types live by sub-domain: `base` (the interface and registry), `display`, `typed`,
`dates`, `choices`, `media` and `reservation`; importing this package registers them all.
"""

# Importing the modules registers their step types.
from procedures.engine.steps import choices, dates, display, media, reservation, typed  # noqa: F401
from procedures.engine.steps.base import (
    POSTBACK_PREFIX,
    PRIMARY_LANGUAGE,
    TOKYO,
    InvalidAnswer,
    Partial,
    StepContext,
    StepNotAvailable,
    StepType,
    localize,
    parse_postback,
    postback,
    register,
    registered_types,
    step_type,
)
from procedures.engine.steps.reservation import ReservationStep

__all__ = [
    "POSTBACK_PREFIX",
    "PRIMARY_LANGUAGE",
    "TOKYO",
    "InvalidAnswer",
    "Partial",
    "ReservationStep",
    "StepContext",
    "StepNotAvailable",
    "StepType",
    "localize",
    "parse_postback",
    "postback",
    "register",
    "registered_types",
    "step_type",
]
