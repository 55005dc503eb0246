"""The builder's translations page: per language, each text of the draft beside the
primary one, with how many are translated (x of y); saving writes one language's
translations into the draft. Access as the other builder pages (designers and admins;
another municipality's procedure is a 404)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from govtech.services import ServiceError
from procedures.builder.presentation import field_labels, step_name
from procedures.builder.services import procedure_language_add, procedure_translations_save
from procedures.builder.translations import (
    completeness,
    document_languages,
    is_translated,
    text_slots,
)
from procedures.builder.views import _designer_procedure, _page, _urls
from procedures.languages import staff_language_name, staff_language_names
from procedures.models import Procedure
from procedures.services import DraftConflict

FIELD_PREFIX = "text:"


@require_http_methods(["GET", "POST"])
def translations_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET ``?lang=``: that language's texts (default: the first one after the primary).
    POST ``action=add`` lists a language; otherwise saves ``lang``'s texts."""
    procedure = _designer_procedure(request, pk)
    if request.method == "POST":
        return _post(request, procedure)
    languages = document_languages(procedure.draft)
    lang = request.GET.get("lang") or (languages[1] if len(languages) > 1 else "")
    if lang not in languages[1:]:
        lang = ""
    return _page(request, "builder/translations.html", _context(procedure, lang))


def _post(request: HttpRequest, procedure: Procedure) -> HttpResponse:
    lang = request.POST.get("lang", "")
    try:
        expected = int(request.POST.get("revision", ""))
        if request.POST.get("action") == "add":
            procedure_language_add(
                actor=request.user, procedure=procedure, lang=lang, expected_revision=expected
            )
        else:
            texts = {
                name[len(FIELD_PREFIX) :]: value
                for name, value in request.POST.items()
                if name.startswith(FIELD_PREFIX)
            }
            procedure_translations_save(
                actor=request.user,
                procedure=procedure,
                lang=lang,
                texts=texts,
                expected_revision=expected,
            )
    except (ValueError, ServiceError, DraftConflict) as refused:
        messages.error(
            request,
            str(refused)
            if not isinstance(refused, ValueError)
            else _("The page was out of date. Please reload it."),
        )
    else:
        messages.success(request, _("Saved the translations into the draft."))
    url = _urls(procedure)["translations"]
    return redirect(f"{url}?{urlencode({'lang': lang})}" if lang else url)


def _context(procedure: Procedure, lang: str) -> dict[str, Any]:
    document = procedure.draft
    primary = document_languages(document)[0]
    listed = set(document_languages(document))
    return {
        "title": _("Translations: %(title)s") % {"title": procedure.title},
        "procedure": procedure,
        "tab": "translations",
        "urls": _urls(procedure),
        "languages": completeness(document),
        "lang": lang,
        "lang_name": staff_language_name(lang) if lang else "",
        "primary_code": primary,
        "primary_name": staff_language_name(primary),
        "rows": _rows(document, lang) if lang else [],
        "addable": [
            {"code": code, "name": str(name)}
            for code, name in staff_language_names().items()
            if code not in listed
        ],
        "revision": procedure.draft_revision,
        "field_prefix": FIELD_PREFIX,
    }


def _rows(document: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    labels, primary = field_labels(), document_languages(document)[0]
    steps = document.get("steps") or []
    rows = []
    for slot in text_slots(document):
        step = steps[slot.step_number - 1] if slot.step_number else None
        what = _("Option") if slot.key == "option" else labels.get(slot.key, slot.key)
        rows.append(
            {
                "path": slot.path,
                "step": f"{slot.step_number}. {step_name(step, primary)}" if step else "",
                "what": what,
                "source": slot.texts.get(primary, ""),
                "value": slot.texts.get(lang, ""),
                "translated": is_translated(slot, lang),
                "long": len(str(slot.texts.get(primary, ""))) > 60,
            }
        )
    return rows
