"""Writes for the FAQ: the garbage-sorting list and general questions imported from CSV
(all or nothing, every bad line listed), an entry added from an unanswered question,
and what each lookup found counted for the hit rate.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.faq.matching import FaqIndex, keys_for, normalize, question_of
from delivery.faq.models import FaqDay, FaqEntry, FaqKind, UnansweredQuestion
from delivery.faq.vocabulary import common_names
from delivery.spots.standard import decode
from delivery.spots.standard import normalize as normalize_header
from govtech.models import Municipality, User
from govtech.services import audit_log

MAX_BYTES = 10 * 1024 * 1024
# field → the headers that hold it (compared after NFKC, without spaces).
GARBAGE_COLUMNS = {
    "question": ("ゴミの品目", "ごみの品目", "品目", "品名"),
    "reading": ("ゴミの品目_カナ", "ごみの品目_カナ", "品目_カナ", "品目カナ", "読み"),
    "question_en": ("ゴミの品目_英字", "ごみの品目_英字", "品目_英字", "英語"),
    "sorting": ("分別区分", "出し方", "区分"),
    "notes": ("注意点", "出し方のポイント"),
    "remarks": ("備考",),
    "fee": ("粗大ごみ回収料金", "料金"),
    "synonyms": ("同義語", "別名", "キーワード"),
}
GENERAL_COLUMNS = {
    "question": ("質問", "question"),
    "answer": ("回答", "answer"),
    "synonyms": ("同義語", "言い換え", "synonyms", "キーワード"),
    "category": ("カテゴリ", "分類", "category"),
    "link": ("リンク", "URL", "link"),
    "procedure_key": ("手続き", "手続きキー", "procedure"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    FaqKind.GARBAGE: ("question", "sorting"),
    FaqKind.GENERAL: ("question", "answer"),
}


@dataclass
class FaqImport:
    entries: list[dict] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    encoding: str = ""


def read_faq_csv(content: bytes, kind: str) -> FaqImport:
    """The rows of a garbage-sorting list or a general FAQ file, or every bad line."""
    result = FaqImport()
    if len(content) > MAX_BYTES:
        result.problems.append((0, _("The file is larger than %(mb)d MB.") % {"mb": 10}))
        return result
    try:
        text, result.encoding = decode(content)
    except ValueError as error:
        result.problems.append((0, str(error)))
        return result
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        result.problems.append((1, _("The file is empty.")))
        return result
    wanted = GARBAGE_COLUMNS if kind == FaqKind.GARBAGE else GENERAL_COLUMNS
    header = [normalize_header(h).lower() for h in rows[0]]
    columns: dict[str, int] = {}
    for name, candidates in wanted.items():
        for candidate in candidates:
            if normalize_header(candidate).lower() in header:
                columns[name] = header.index(normalize_header(candidate).lower())
                break
    missing = [wanted[name][0] for name in REQUIRED[kind] if name not in columns]
    if missing:
        result.problems.append(
            (1, _("Columns missing from the header: %(columns)s") % {"columns": "、".join(missing)})
        )
        return result
    seen: dict[str, int] = {}
    for number, values in enumerate(rows[1:], start=2):
        if not any(value.strip() for value in values):
            continue
        row: dict[str, Any] = {
            name: (values[index].strip() if index < len(values) else "")
            for name, index in columns.items()
        }
        problems = _row_problems(row, kind)
        key = normalize(row.get("question", ""))
        if key and key in seen:
            problems.append(
                _("“%(question)s” is also on line %(line)d.")
                % {"question": row["question"], "line": seen[key]}
            )
        seen.setdefault(key, number)
        if problems:
            result.problems.extend((number, problem) for problem in problems)
            continue
        row["synonyms"] = synonyms_split(row.get("synonyms", ""))
        result.entries.append(row)
    return result


def synonyms_split(text: str) -> list[str]:
    """「PET、ペットボトル;ボトル」 → the words, as the CSV column and the console write them
    (、 , / ; in either width, or one per line)."""
    return [word.strip() for word in re.split(r"[、,，/／;；\n]", text) if word.strip()]


def _row_problems(row: dict, kind: str) -> list[str]:
    problems = []
    if not row.get("question"):
        problems.append(_("The question (or item) is empty."))
    if kind == FaqKind.GARBAGE and not row.get("sorting"):
        problems.append(_("The sorting category (分別区分) is empty."))
    if kind == FaqKind.GENERAL and not row.get("answer"):
        problems.append(_("The answer is empty."))
    if row.get("link") and not re.match(r"^https?://", row["link"]):
        problems.append(_("Not a web address: “%(value)s”.") % {"value": row["link"]})
    return problems


def faq_import(*, actor: User, municipality: Municipality, kind: str, content: bytes):
    """Replace the municipality's entries of ``kind`` with the file's: added, changed and
    removed counted; nothing changes when any line is bad. Returns (counts or None,
    the reading)."""
    read = read_faq_csv(content, kind)
    if read.problems:
        return None, read
    with transaction.atomic():
        stored = {entry.question: entry for entry in FaqEntry.objects.filter(kind=kind)}
        added = changed = 0
        for row in read.entries:
            values = _entry_values(row, kind)
            entry = stored.pop(row["question"], None)
            if entry is None:
                FaqEntry.objects.create(municipality=municipality, kind=kind, **values)
                added += 1
            elif any(getattr(entry, name) != value for name, value in values.items()):
                FaqEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now(), **values)
                changed += 1
        removed = FaqEntry.objects.filter(pk__in=[e.pk for e in stored.values()]).delete()[0]
        counts = {"added": added, "changed": changed, "removed": removed}
        audit_log(actor, "faq.imported", municipality, {"kind": kind, **counts})
    return counts, read


def _entry_values(row: dict, kind: str) -> dict:
    fields = (
        "question",
        "reading",
        "question_en",
        "answer",
        "sorting",
        "notes",
        "remarks",
        "fee",
        "category",
        "link",
        "procedure_key",
    )
    values = {name: row.get(name, "") for name in fields}
    values["synonyms"] = row.get("synonyms", [])
    if kind == FaqKind.GARBAGE:
        values["synonyms"] += [
            n for n in common_names(values["question"]) if n not in values["synonyms"]
        ]
    values["search_keys"] = keys_for(
        values["question"], values["reading"], values["question_en"], values["synonyms"]
    )
    return values


def faq_entry_save(*, actor: User, entry: FaqEntry) -> FaqEntry:
    """Store an entry edited in the console, its search keys recomputed. Audited."""
    entry.search_keys = keys_for(entry.question, entry.reading, entry.question_en, entry.synonyms)
    creating = entry.pk is None
    entry.full_clean()
    entry.save()
    audit_log(actor, "faq.entry.created" if creating else "faq.entry.changed", entry, {})
    return entry


def faq_add_from_unanswered(
    *, actor: User, question: UnansweredQuestion, entry: FaqEntry
) -> FaqEntry:
    """「FAQに追加」: the new entry, and the question marked answered by it."""
    with transaction.atomic():
        faq_entry_save(actor=actor, entry=entry)
        question.answered_by = entry
        question.save(update_fields=["answered_by"])
    return entry


# --- lookups --------------------------------------------------------------------------------

_indexes: dict[int, tuple[tuple, FaqIndex]] = {}


def faq_index(municipality_id: int) -> FaqIndex:
    """The municipality's search index, rebuilt only when its entries changed (one
    aggregate statement to know)."""
    entries = FaqEntry.objects.filter(is_active=True)
    stamp = tuple(entries.aggregate(n=Count("pk"), at=Max("updated_at")).values())
    cached = _indexes.get(municipality_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    keys = [(key, pk) for pk, keys in entries.values_list("pk", "search_keys") for key in keys]
    index = FaqIndex(keys)
    _indexes[municipality_id] = (stamp, index)
    return index


def faq_outcome_count(*, municipality: Municipality, outcome: str, now: datetime) -> None:
    """Count one lookup's outcome (answered, suggested, unanswered) for its day. No
    savepoint (it runs inside a conversation turn): the day's row is inserted if missing
    (ON CONFLICT DO NOTHING), then incremented."""
    day = timezone.localdate(now)
    days = FaqDay.objects.filter(day=day)
    if days.update(**{outcome: F(outcome) + 1}):
        return
    FaqDay.objects.bulk_create([FaqDay(municipality=municipality, day=day)], ignore_conflicts=True)
    days.update(**{outcome: F(outcome) + 1})


def unanswered_record(*, municipality: Municipality, text: str, now: datetime) -> None:
    """Remember what nobody could answer, counted by its normalized form (no savepoint,
    as ``faq_outcome_count``)."""
    normalized = question_of(text)[:200]
    if not normalized:
        return
    asked = UnansweredQuestion.objects.filter(normalized=normalized)
    if asked.update(count=F("count") + 1, last_asked_at=now, text=text[:200]):
        return
    first = UnansweredQuestion(
        municipality=municipality,
        normalized=normalized,
        text=text[:200],
        count=0,
        first_asked_at=now,
        last_asked_at=now,
    )
    UnansweredQuestion.objects.bulk_create([first], ignore_conflicts=True)
    asked.update(count=F("count") + 1, last_asked_at=now)
