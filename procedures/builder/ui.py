"""Translated labels the builder's pages and its JavaScript show (server-rendered, gettext)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from procedures.engine.steps import registered_types, step_type
from procedures.languages import RESIDENT_LANGUAGES, staff_language_names

VALIDATION_ORDER = (
    "min",
    "max",
    "min_length",
    "max_length",
    "min_date",
    "max_date",
    "script",
    "pattern",
)


def type_labels() -> dict[str, str]:
    return {
        "message": _("Message"),
        "text": _("Text"),
        "number": _("Number"),
        "email": _("E-mail address"),
        "phone": _("Phone number"),
        "postal_code": _("Postal code"),
        "date": _("Date"),
        "time": _("Time"),
        "choice": _("Choice (one)"),
        "multi_choice": _("Choice (several)"),
        "yes_no": _("Yes / no"),
        "image": _("Photo"),
        "location": _("Location"),
        "consent": _("Consent"),
        "reservation": _("Reservation"),
        "confirm": _("Confirmation"),
        "end": _("End"),
    }


def step_types() -> list[dict[str, Any]]:
    """The palette: every registered type the engine can run, with what its form shows."""
    labels = type_labels()
    palette = []
    for name in registered_types():
        kind = step_type(name)
        if not kind.available:
            continue  # a type the engine cannot run yet is not offered
        palette.append(
            {
                "name": name,
                "label": labels.get(name, name),
                "role": kind.role,
                "needs_options": kind.needs_options,
                "validation": [key for key in VALIDATION_ORDER if key in kind.validation_fields],
            }
        )
    order = {name: position for position, name in enumerate(labels)}
    return sorted(palette, key=lambda item: order.get(item["name"], len(order)))


def language_choices() -> list[dict[str, str]]:
    """Languages a document may be written in: the residents' languages
    (procedures.languages), named in the console's language."""
    names = staff_language_names()
    return [{"code": code, "name": str(names[code])} for code in RESIDENT_LANGUAGES]


def kind_choices() -> list[dict[str, str]]:
    return [
        {"code": "application", "name": _("Application")},
        {"code": "report", "name": _("Report")},
        {"code": "survey", "name": _("Survey")},
        {"code": "profile", "name": _("Registration details (resident attributes)")},
    ]


def labels() -> dict[str, str]:
    """Labels of the procedure settings form (the builder's JavaScript shows them)."""
    return {
        "settings": _("Procedure settings"),
        "title": _("Title"),
        "description": _("Description (shown when the procedure starts)"),
        "kind": _("Kind"),
        "category": _("Category"),
        "languages": _("Languages (the first is the primary language)"),
        "keywords": _("Trigger keywords"),
        "keywords_help": _("One per line. A resident who types one starts this procedure."),
        "completion": _("Completion message"),
        "completion_help": _("{reference} is replaced by the reference number."),
        "fee": _("Fee"),
        "fee_kind": _("How the fee is worked out"),
    }


def strings() -> dict[str, str]:
    """Every sentence the builder's JavaScript shows, translated for the current language."""
    return {
        "saved": _("Saved."),
        "saving": _("Saving…"),
        "unsaved": _("Unsaved changes"),
        "save_failed": _("Could not save: %(reason)s"),
        "conflict": _(
            "Someone else saved this draft after you opened it. Nothing was overwritten: "
            "copy your changes, then reload the page to see theirs."
        ),
        "leave": _("You have unsaved changes. Leave the page?"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "duplicate": _("Duplicate"),
        "delete": _("Delete"),
        "delete_confirm": _("Delete this step?"),
        "untitled": _("(no question yet)"),
        "confirm_step": _("Confirmation before sending"),
        "step_id": _("Step ID"),
        "step_id_help": _("Lowercase letters, digits and _ ; used in conditions and exports."),
        "label": _("Short name (shown in the summary)"),
        "prompt": _("Question"),
        "message": _("Message"),
        "summary_title": _("Title of the summary (optional)"),
        "help": _("Help text"),
        "error": _("Message when the answer is refused (optional)"),
        "required": _("An answer is required"),
        "options": _("Options"),
        "option_label": _("Option"),
        "option_value": _("Value"),
        "add_option": _("Add an option"),
        "remove_option": _("Remove option"),
        "validation": _("Checks on the answer"),
        "pattern": _("Pattern (regular expression)"),
        "script": _("Written in"),
        "script_any": _("Any characters"),
        "script_katakana": _("Katakana (hiragana is converted)"),
        "script_hiragana": _("Hiragana (katakana is converted)"),
        "min": _("Minimum"),
        "max": _("Maximum"),
        "min_length": _("Minimum length (characters)"),
        "max_length": _("Maximum length (characters)"),
        "min_date": _("Earliest date (days from today)"),
        "max_date": _("Latest date (days from today)"),
        "condition": _("When to ask this step"),
        "always": _("Always ask this step."),
        "ask_when": _("Ask this step when"),
        "combine_all": _("all of these are true"),
        "combine_any": _("any of these is true"),
        "add_rule": _("Add a condition"),
        "remove_rule": _("Remove condition"),
        "earlier_step": _("Earlier step"),
        "operator": _("Comparison"),
        "value": _("Value"),
        "op_is": _("is"),
        "op_is_not": _("is not"),
        "op_includes": _("includes"),
        "op_gt": _("is greater than"),
        "op_lt": _("is less than"),
        "op_answered": _("is answered"),
        "yes": _("Yes"),
        "no": _("No"),
        "no_earlier": _("There is no earlier question to refer to."),
        "advanced": _("Advanced: edit as JSON Logic"),
        "advanced_invalid": _("This is not valid JSON."),
        "advanced_note": _("This rule is too complex for the simple editor; edit it as JSON."),
        "fee_none": _("No fee"),
        "fee_fixed": _("A fixed amount"),
        "fee_per_option": _("An amount per option"),
        "fee_advanced": _("Advanced (JSON Logic)"),
        "fee_amount": _("Amount (yen)"),
        "fee_step": _("Choice step"),
        "fee_quantity": _("Multiplied by the number answered in"),
        "fee_no_quantity": _("(not multiplied)"),
        "preview_error": _("The preview is not available."),
        "preview_note": _("Buttons do nothing in the preview. Use Try it to answer."),
        "problems": _("Problems to fix before publishing"),
        "warning": _("Note"),
        "notes": _("Worth checking (these do not stop publishing)"),
        "step_of": _("Step %(number)s: %(type)s"),
        "no_problems": _("No problems found."),
    }
