"""Links to a map for a place, as configured (``MAP_LINK_URL``, with {lat} and {lon})."""

from django.conf import settings


def map_link(latitude: float, longitude: float) -> str:
    """The configured map's address for the place; empty when no link is configured."""
    if not settings.MAP_LINK_URL:
        return ""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return settings.MAP_LINK_URL.replace("{lat}", lat).replace("{lon}", lon)
