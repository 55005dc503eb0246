"""Calendar reminders: garbage days (or school lunches) per area, the evening before.

A rule's dates come from weekly weekdays, nth weekdays of the month, and imported extra
or skipped dates; Japanese public holidays move a date (or cancel it). Each (rule, date)
becomes one broadcast, created once (unique constraint), so every resident of the area
who opted in gets the notice of a date at most once.
"""

import csv
import io
from datetime import date, datetime, timedelta

import holidays
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django_scopes import scopes_disabled

from delivery.broadcasts.models import (
    Broadcast,
    BroadcastStatus,
    ReminderOccurrence,
    ReminderRule,
)
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


def reminder_dates_import(*, rule: ReminderRule, csv_text: str) -> int:
    """Add dates from a CSV (``date,action`` with action ``add`` or ``skip``). Returns rows."""
    rows = list(csv.reader(io.StringIO(csv_text)))
    extra, skip = set(rule.extra_dates), set(rule.skip_dates)
    count = 0
    for row in rows:
        if not row or row[0].strip().lower() == "date":
            continue
        day = date.fromisoformat(row[0].strip()).isoformat()
        (skip if len(row) > 1 and row[1].strip() == "skip" else extra).add(day)
        count += 1
    rule.extra_dates, rule.skip_dates = sorted(extra), sorted(skip)
    rule.save(update_fields=["extra_dates", "skip_dates"])
    return count


def _rules(rule: ReminderRule) -> dict:
    conditions = [{"field": rule.attribute_key, "op": "is", "value": rule.attribute_value}]
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
    from delivery.broadcasts.tasks import broadcast_start

    broadcast_start.delay_on_commit(broadcast.pk)
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
