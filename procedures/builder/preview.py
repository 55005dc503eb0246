"""What a resident sees in LINE for one step of a draft: the builder's live preview.

The engine produces the prompts and the channel's renderer (registered by delivery:
``delivery.rendering.render_prompts``) turns them into the exact LINE message JSON the
webhook would send; the page draws that JSON with the same renderer as the simulator's
chat page (static/line/render.js). Without a registered renderer the preview is the
transport-neutral prompts themselves.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from procedures import engine, logic
from procedures.builder.registry import preview_renderer
from procedures.engine.steps import StepContext, StepType, localize, step_type


def _sample_answers(document: dict[str, Any]) -> dict[str, Any]:
    """A plausible answer to every question a resident would be asked, in order: a step
    whose condition is false given the answers before it is left out, as the engine does.
    Call inside ``override(lang)``: free-text answers are written in that language."""
    answers: dict[str, Any] = {}
    for step in document.get("steps", []):
        kind = step_type(step["type"])
        if kind.role != "question" or not kind.available:
            continue
        if "when" in step and not logic.is_true(step["when"], answers):
            continue
        answers[step["id"]] = _sample(kind, step)
    return answers


def _sample(kind: StepType, step: dict[str, Any]) -> Any:
    value = kind.sample(step)
    if value == StepType.sample(kind, step):  # the generic placeholder, in English
        return _("Sample answer")
    return value


def _sample_rows(document: dict[str, Any], answers: dict[str, Any], lang: str, now: datetime):
    """Summary rows for the sample answers, labelled as the resident will see them."""
    ctx = StepContext(document, lang, now)
    rows = []
    for step in document.get("steps", []):
        if step["id"] not in answers:
            continue
        kind = step_type(step["type"])
        label = localize(step.get("label"), lang) or localize(step.get("prompt"), lang)
        value = kind.summarize(step, answers[step["id"]], ctx)
        rows.append(engine.SummaryRow(step["id"], label or step["id"], value))
    return tuple(rows)


def _confirmation(document: dict[str, Any], step: dict[str, Any], lang: str, now: datetime):
    ctx = StepContext(document, lang, now)
    answers = _sample_answers(document)
    return engine.ConfirmationPrompt(
        title=step_type("confirm").question(step, ctx),
        rows=_sample_rows(document, answers, lang, now),
        submit=engine.Choice(_("Submit"), "preview"),
        edit=engine.Choice(_("Edit"), "preview"),
        fee=engine.compute_fee(document, answers),
    )


def _step_prompts(
    document: dict[str, Any], index: int, lang: str, now: datetime, availability: Mapping
) -> list:
    step = document["steps"][index]
    if step_type(step["type"]).role == "confirm":
        return [_confirmation(document, step, lang, now)]
    # The step on its own, as the first question of a conversation: the engine adds the
    # same command buttons (help, cancel, skip) a resident gets.
    alone = {key: value for key, value in document.items() if key != "description"}
    shown = {key: value for key, value in step.items() if key != "when"}
    alone["steps"] = [shown]
    alone["languages"] = document.get("languages") or ["ja"]
    return engine.start(alone, lang=lang, now=now, availability=availability).prompts


def step_preview(
    document: dict[str, Any],
    *,
    index: int,
    lang: str,
    now: datetime,
    availability: Mapping[str, Any] | None = None,
) -> list[dict]:
    """The LINE message objects for step ``index`` of ``document`` in ``lang``.

    ``availability`` is what bound steps offer (``steptypes.availability_for``); without
    it a reservation step says that reservations are not available. The draft may be
    unfinished: a step the engine cannot show yet (no options, no question) raises
    ValueError with a message for the designer.
    """
    document = copy.deepcopy(document)
    try:
        with override(lang):
            prompts = _step_prompts(document, index, lang, now, availability or {})
        render = preview_renderer()
        if render is None:
            return [prompt.to_dict() for prompt in prompts]
        return render(prompts, lang)
    except (KeyError, IndexError, TypeError, ValueError, engine.StepNotAvailable) as problem:
        raise ValueError(_("This step cannot be shown yet: fill in its required fields.")) from (
            problem
        )
