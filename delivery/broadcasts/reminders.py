"""Calendar reminders: garbage days (or school lunches) per area, the evening before.

A rule's dates come from weekly weekdays, nth weekdays of the month, and imported extra
or skipped dates; Japanese public holidays move a date (or cancel it). Each (rule, date)
becomes one broadcast, created once (unique constraint), so every resident of the area
who opted in gets the notice of a date at most once.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import holidays
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from delivery.broadcasts.models import (
    AttributeField,
    Broadcast,
    BroadcastStatus,
    ReminderOccurrence,
    ReminderRule,
)
from govtech.models import User
from govtech.publish import publish_task_on_commit
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope

MARGIN = timedelta(days=10)  # base dates this far outside a range may shift into it


def _base_dates(rule: ReminderRule, start: date, end: date) -> set[date]:
    weekly = {int(day) for day in rule.weekdays}
    nth = {(int(weekday), int(n)) for weekday, n in rule.nth_weekdays}
    found = set()
    day = start
    while day <= end:
        if day.weekday() in weekly or (day.weekday(), (day.day - 1) // 7 + 1) in nth:
            found.add(day)
        day += timedelta(days=1)
    found |= {date.fromisoformat(d) for d in rule.extra_dates}
    return found - {date.fromisoformat(d) for d in rule.skip_dates}


def _shifted(day: date, shift: int, japan: holidays.HolidayBase) -> date | None:
    if day not in japan:
        return day
    if shift == 0:
        return None
    while day in japan:
        day += timedelta(days=shift)
    return day


def collection_dates(rule: ReminderRule, start: date, end: date) -> list[date]:
    """The rule's dates in [start, end], after the holiday shift, in order."""
    japan = holidays.country_holidays("JP", years=range(start.year - 1, end.year + 2))
    extra = {date.fromisoformat(d) for d in rule.extra_dates}
    dates = set()
    for day in _base_dates(rule, start - MARGIN, end + MARGIN):
        # Imported dates are the city's own decision: no holiday shift for them.
        moved = day if day in extra else _shifted(day, rule.holiday_shift_days, japan)
        if moved is not None and start <= moved <= end:
            dates.add(moved)
    return sorted(dates)


# --- irregular dates from a CSV (what a city's Excel exports) ------------------------------

MAX_CSV_BYTES = 256 * 1024
COLUMNS = {
    "date": {"date", "日付", "収集日"},
    "action": {"action", "区分", "種別"},
    "area": {"area", "地区"},
    "note": {"note", "備考", "メモ"},  # allowed and ignored
}
ADD_WORDS = {"", "add", "追加", "収集", "あり"}
SKIP_WORDS = {"skip", "休み", "休止", "中止", "なし"}


@dataclass(frozen=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        if not self.line:
            return self.message
        return _("Line %(line)s: %(problem)s") % {"line": self.line, "problem": self.message}


class ReminderCsvRejected(ServiceError):
    """The CSV cannot be imported; nothing was changed. ``problems`` lists every line."""

    def __init__(self, problems: list[CsvProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class ReminderDates:
    """What a CSV holds for one rule: dates to add, dates to skip, rows of other areas."""

    add: set[date] = field(default_factory=set)
    skip: set[date] = field(default_factory=set)
    other_areas: int = 0


def _decode(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        limit = MAX_CSV_BYTES // 1024
        raise ReminderCsvRejected(
            [CsvProblem(0, _("The file is larger than %(size)s KB.") % {"size": limit})]
        )
    if data.startswith(b"PK\x03\x04"):
        message = _("This is an Excel workbook: save it as CSV (comma-separated) first.")
        raise ReminderCsvRejected([CsvProblem(0, message)])
    for encoding in ("utf-8-sig", "cp932"):  # cp932: Excel's "CSV" in Japanese Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    message = _("The file is neither UTF-8 nor Shift_JIS (CP932) text.")
    raise ReminderCsvRejected([CsvProblem(0, message)])


def _parse_date(text: str) -> date | None:
    match = re.fullmatch(r"(\d{4})\s*[-/年]\s*(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?", text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _area_names(rule: ReminderRule) -> tuple[set[str], dict[str, str]]:
    """Header names of the area column, and every known area (value or label) → value."""
    attribute = AttributeField.objects.filter(key=rule.attribute_key).first()
    names = COLUMNS["area"] | {rule.attribute_key}
    known = {rule.attribute_value: rule.attribute_value}
    if attribute is not None:
        names.add(attribute.label)
        for option in attribute.options:
            if isinstance(option, dict) and "value" in option:
                value = str(option["value"])
                label = option.get("label") or value
                labels = label.values() if isinstance(label, dict) else [label]
                known.update({value: value, **{str(text): value for text in labels}})
    return names, known


def _columns(header: list[str], area_names: set[str]) -> dict[str, int]:
    wanted = {**COLUMNS, "area": area_names}
    found: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(cell.strip() for cell in header):
        column = next((key for key, names in wanted.items() if name.lower() in names), None)
        if column is None or column in found:
            unknown.append(name or "—")
        else:
            found[column] = index
    if unknown or "date" not in found:
        message = _(
            "The first line must name the columns: 日付 (date), and optionally 区分 (action: "
            "追加 or 休み), 地区 (area) and 備考 (note). Not understood: %(columns)s"
        ) % {"columns": ", ".join(unknown) or "—"}
        raise ReminderCsvRejected([CsvProblem(1, message)])
    return found


def _row(
    cells: list[str], columns: dict[str, int], known: dict[str, str], rule: ReminderRule
) -> tuple[date, bool] | list[str] | None:
    """(date, is_skip) for this rule; None for another area's row; the problems if wrong."""
    cell = {name: (cells[i].strip() if i < len(cells) else "") for name, i in columns.items()}
    problems = []
    day = _parse_date(cell["date"])
    if day is None:
        problems.append(
            _("“%(value)s” is not a date (write 2025-12-30 or 2025/12/30).")
            % {"value": cell["date"]}
        )
    action = cell.get("action", "").lower()
    if action not in ADD_WORDS | SKIP_WORDS:
        problems.append(_("“%(value)s” is not an action (write 追加 or 休み).") % {"value": action})
    area = cell.get("area", "")
    if area and area not in known:
        problems.append(
            _("“%(value)s” is not a known area (known: %(known)s).")
            % {"value": area, "known": ", ".join(sorted(set(known)))}
        )
    if problems or day is None:
        return problems
    if area and known[area] != rule.attribute_value:
        return None
    return day, action in SKIP_WORDS


def reminder_csv_parse(*, rule: ReminderRule, data: bytes) -> ReminderDates:
    """Read a CSV of irregular dates for ``rule`` (call inside its tenant scope).

    UTF-8 (with or without BOM) or CP932. A header line names the columns: 日付/date,
    optional 区分/action (追加/add or 休み/skip; empty: add), 地区/area (rows of other
    areas are left out; empty: every area) and 備考/note. Raises ReminderCsvRejected
    listing every problem with its line number.
    """
    # newline="": the csv module reads \r, \n and \r\n itself (a lone \r in a cell was
    # an uncaught csv.Error, a 500 on the import page).
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        return _parsed(reader, rule)
    except csv.Error as problem:
        message = _("The file is not a CSV we can read: %(problem)s") % {"problem": problem}
        raise ReminderCsvRejected([CsvProblem(reader.line_num, message)]) from None


def _parsed(reader, rule: ReminderRule) -> ReminderDates:
    area_names, known = _area_names(rule)
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise ReminderCsvRejected([CsvProblem(0, _("The file has no dates."))])
    columns = _columns(header, area_names)
    dates, problems = ReminderDates(), []
    seen: dict[date, bool] = {}  # date → is_skip, to catch a date both added and skipped
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        parsed = _row(cells, columns, known, rule)
        if parsed is None:
            dates.other_areas += 1
        elif isinstance(parsed, list):
            problems += [CsvProblem(reader.line_num, message) for message in parsed]
        elif seen.setdefault(parsed[0], parsed[1]) != parsed[1]:
            message = _("%(date)s is both added and skipped.") % {"date": parsed[0].isoformat()}
            problems.append(CsvProblem(reader.line_num, message))
        else:
            (dates.skip if parsed[1] else dates.add).add(parsed[0])
    if problems:
        raise ReminderCsvRejected(problems)
    if not dates.add and not dates.skip:
        raise ReminderCsvRejected([CsvProblem(0, _("The file has no dates for this reminder."))])
    return dates


def reminder_dates_import(*, actor: User | None, rule: ReminderRule, data: bytes) -> ReminderDates:
    """Add the CSV's dates to ``rule``: all of them, or none (ReminderCsvRejected).

    An added date stops being skipped and the reverse. The rule row is locked while its
    date lists change, so two imports do not lose each other's dates. Audited.
    """
    with tenant_scope(rule.municipality):
        dates = reminder_csv_parse(rule=rule, data=data)
        with transaction.atomic():
            locked = ReminderRule.objects.select_for_update().get(pk=rule.pk)
            add = {d.isoformat() for d in dates.add}
            skip = {d.isoformat() for d in dates.skip}
            locked.extra_dates = sorted((set(locked.extra_dates) - skip) | add)
            locked.skip_dates = sorted((set(locked.skip_dates) - add) | skip)
            locked.save(update_fields=["extra_dates", "skip_dates"])
    rule.extra_dates, rule.skip_dates = locked.extra_dates, locked.skip_dates
    counts = {"added": len(add), "skipped": len(skip), "other_areas": dates.other_areas}
    audit_log(actor, "delivery.reminderrule.dates_imported", rule, counts)
    return dates


def _rules(rule: ReminderRule) -> dict:
    conditions: list[dict[str, Any]] = [
        {"field": rule.attribute_key, "op": "is", "value": rule.attribute_value}
    ]
    if rule.opt_in_key:
        conditions.append({"field": rule.opt_in_key, "op": "is", "value": True})
    return {"match": "all", "conditions": conditions}


def _occurrence_create(rule: ReminderRule, day: date, now: datetime) -> bool:
    text = rule.message.replace("{date}", date_format(day, "MONTH_DAY_FORMAT"))
    try:
        with transaction.atomic(), tenant_scope(rule.municipality):
            broadcast = Broadcast.objects.create(
                municipality=rule.municipality,
                channel=rule.channel,
                title=f"{rule.name} {day.isoformat()}",
                messages=[{"type": "text", "text": text}],
                rules=_rules(rule),
                status=BroadcastStatus.SCHEDULED,
                scheduled_at=now,
            )
            ReminderOccurrence.objects.create(rule=rule, date=day, broadcast=broadcast)
    except IntegrityError:  # created by an earlier run: once per rule and date
        return False
    publish_task_on_commit(
        "delivery.tasks.broadcast_start", broadcast.pk, municipality_id=broadcast.municipality_id
    )
    return True


def reminders_schedule(*, now: datetime) -> int:
    """Create tomorrow's notices whose send time (today, local) has come. Idempotent."""
    local = timezone.localtime(now)
    tomorrow = local.date() + timedelta(days=1)
    created = 0
    with scopes_disabled():
        rules = list(
            ReminderRule.objects.filter(is_active=True, send_time__lte=local.time()).select_related(
                "municipality", "channel"
            )
        )
    for rule in rules:
        if tomorrow in collection_dates(rule, tomorrow, tomorrow):
            created += _occurrence_create(rule, tomorrow, now)
    return created
