"""Garbage-day reminders over a month: the evening before, once per resident and date,
holidays shifted, CSV dates added and skipped."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_scopes import scopes_disabled

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import ReminderOccurrence, ReminderRule
from delivery.broadcasts.reminders import (
    collection_dates,
    reminder_dates_import,
    reminders_schedule,
)
from delivery.simulator.models import SimulatorTranscriptEntry
from tests.delivery.broadcast_world import make_friends, received

TOKYO = ZoneInfo("Asia/Tokyo")
NOVEMBER_2025 = [
    date(2025, 11, 4),
    date(2025, 11, 6),
    date(2025, 11, 10),
    date(2025, 11, 13),
    date(2025, 11, 17),
    date(2025, 11, 20),
    date(2025, 11, 25),
    date(2025, 11, 29),
]


def burnable_rule(channel) -> ReminderRule:
    """Burnable: every Mon/Thu; a holiday Monday moves to Tuesday (Nov 3, Nov 24 2025)."""
    with scopes_disabled():
        rule = ReminderRule.objects.create(
            municipality=channel.municipality,
            channel=channel,
            name="燃やすごみ（北地区）",
            attribute_key="area",
            attribute_value="north",
            opt_in_key="garbage_notice",
            message="{date}は燃やすごみの日です。朝8時までに出してください。",
            weekdays=[0, 3],
            holiday_shift_days=1,
        )
    csv_text = "date,action\n2025-11-29,add\n2025-11-27,skip\n"
    reminder_dates_import(actor=None, rule=rule, data=csv_text.encode())
    return rule


def test_collection_dates_follow_weekdays_nth_weekdays_holidays_and_imports(city):
    rule = ReminderRule(
        weekdays=[0, 3], holiday_shift_days=1, extra_dates=["2025-11-29"], skip_dates=["2025-11-27"]
    )
    assert collection_dates(rule, date(2025, 11, 1), date(2025, 11, 30)) == NOVEMBER_2025
    landfill = ReminderRule(nth_weekdays=[[2, 2]])  # the 2nd Wednesday
    assert collection_dates(landfill, date(2025, 11, 1), date(2025, 11, 30)) == [date(2025, 11, 12)]
    no_shift = ReminderRule(weekdays=[0], holiday_shift_days=0)
    assert date(2025, 11, 3) not in collection_dates(
        no_shift, date(2025, 11, 1), date(2025, 11, 30)
    )


@pytest.mark.slow
def test_a_month_of_evenings_sends_each_notice_once_to_opted_in_residents_of_the_area(
    line_world, city
):
    broadcasts.broadcast_policy_set(actor=None, municipality=city, approval_required=False)
    channel = line_world.channel
    rule = burnable_rule(channel)
    opted_in = make_friends(channel, "n", 2, area="north", garbage_notice=True)
    silent = make_friends(channel, "q", 1, area="north")
    elsewhere = make_friends(channel, "s", 1, area="south", garbage_notice=True)

    evening = datetime(2025, 10, 31, 18, 5, tzinfo=TOKYO)
    while evening.date() < date(2025, 11, 30):
        with time_machine.travel(evening, tick=False):
            reminders_schedule(now=evening)
            reminders_schedule(now=evening)  # beat runs again: nothing new
        with time_machine.travel(evening.replace(hour=17), tick=False):
            assert reminders_schedule(now=evening.replace(hour=17)) == 0  # not before 18:00
        evening += timedelta(days=1)

    occurrences = ReminderOccurrence.objects.with_scope(municipality=city)
    assert sorted(occurrences.filter(rule=rule).values_list("date", flat=True)) == NOVEMBER_2025
    assert set(received(opted_in).values()) == {len(NOVEMBER_2025)}
    assert set(received(silent + elsewhere).values()) == {0}
    first = SimulatorTranscriptEntry.objects.filter(user__user_id=opted_in[0]).order_by("id")[0]
    assert first.message["text"].startswith("11月4日は燃やすごみの日です")
