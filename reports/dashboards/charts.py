"""What the dashboards' charts draw, as plain data for ``static/reports/dashboards.js``
(which hands it to the vendored Chart.js). Every chart has the same figures in a table
next to it; these functions only choose the series, labels and scale."""

from __future__ import annotations

from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from reports.dashboards.models import BroadcastBlocks, DailyFriends, DailyProcedure
from reports.dashboards.selectors import FunnelStep, ResourceFigures

Chart = dict[str, Any]


def _chart(kind: str, labels: list[str], datasets: list[dict], **options: Any) -> Chart:
    return {"type": kind, "labels": labels, "datasets": datasets, **options}


def _series(label: str, data: list, **options: Any) -> dict:
    return {"label": label, "data": data, **options}


def _day(day) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def friends_chart(days: list[DailyFriends]) -> Chart:
    """Friends as a line (left axis), follows and blocks as bars (right axis)."""
    return _chart(
        "bar",
        [_day(d.day) for d in days],
        [
            _series(_("Friends"), [d.friends for d in days], type="line", yAxisID="y"),
            _series(_("Follows"), [d.follows for d in days], yAxisID="y2"),
            _series(_("Blocks"), [d.blocks for d in days], yAxisID="y2"),
        ],
        second_axis=True,
    )


def broadcasts_chart(rows: list[BroadcastBlocks]) -> Chart:
    return _chart(
        "bar",
        [f"{_day(row.day)} {row.title}" for row in rows],
        [_series(_("Blocks within 24 hours"), [row.blocks for row in rows])],
    )


def funnel_chart(steps: list[FunnelStep]) -> Chart:
    """Horizontal bars: reached, and stopped there, per step in order."""
    return _chart(
        "bar",
        [step.label for step in steps],
        [
            _series(_("Reached"), [step.reached for step in steps]),
            _series(_("Stopped here"), [step.stopped for step in steps]),
        ],
        horizontal=True,
    )


def procedure_days_chart(days: list[DailyProcedure]) -> Chart:
    return _chart(
        "bar",
        [_day(d.day) for d in days],
        [
            _series(_("Started"), [d.started for d in days]),
            _series(_("Completed"), [d.completed for d in days]),
            _series(_("Submissions"), [d.submissions for d in days], type="line"),
        ],
    )


def channel_name(channel: str) -> str:
    names = {"line": "LINE", "web": _("web form"), "terminal": _("terminal"), "": _("unknown")}
    return names.get(channel, channel)


def channel_rows(channels: dict[str, int]) -> list[tuple[str, int, float]]:
    total = sum(channels.values())
    return [(channel_name(c), n, n / total) for c, n in channels.items()] if total else []


def channels_chart(channels: dict[str, int]) -> Chart:
    return _chart(
        "doughnut",
        [channel_name(c) for c in channels],
        [_series(_("Submissions"), list(channels.values()))],
    )


def resource_chart(figures: ResourceFigures) -> Chart:
    """Occupancy per day in percent (line) and no-shows (bars, right axis)."""
    days = figures.days
    occupancy = [round(100 * d.booked / d.capacity, 1) if d.capacity else None for d in days]
    return _chart(
        "bar",
        [_day(d.day) for d in days],
        [
            _series(_("Occupancy (%)"), occupancy, type="line", yAxisID="y"),
            _series(_("No-shows"), [d.no_shows for d in days], yAxisID="y2"),
        ],
        second_axis=True,
        percent=True,
    )
