"""What every console page shows about disaster mode: a banner while it is on."""

from django.http import HttpRequest
from django.urls import reverse

from delivery.disaster.selectors import disaster_mode_is_on_cached
from govtech.access import staff_context


def disaster_banner(request: HttpRequest) -> dict:
    """``disaster_mode_on`` and the disaster page's address, for the staff member's own
    municipality (from the cache: no query on most pages)."""
    municipality = staff_context(request).municipality
    if municipality is None or not disaster_mode_is_on_cached(municipality=municipality):
        return {}
    return {
        "disaster_mode_on": True,
        "disaster_page_url": reverse("admin:delivery_disastersettings_changelist"),
    }
