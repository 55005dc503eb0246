"""Reads on residents."""

from __future__ import annotations

from govtech.models import Municipality
from procedures import languages


def offered_languages(municipality: Municipality) -> list[str]:
    """The languages residents of ``municipality`` can choose, in display order (all
    when the municipality chose none; Japanese always)."""
    return languages.offered_languages(municipality.resident_languages.replace(",", " ").split())
