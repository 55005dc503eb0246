"""Formats of the dashboards' figures: shares as percentages, durations in words."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.1234 → "12.3%"; nothing to divide by → "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as the largest two units: "3 min", "1 h 5 min", "2 d 3 h"; none → "—"."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
