"""The demo's FAQ for ``seed_demo``: a garbage-sorting list in the standard columns and a
few general questions (one starts the bulky-waste application), imported once."""

from pathlib import Path

from delivery.faq.models import FaqEntry
from delivery.faq.services import faq_import
from govtech.models import Municipality, User

DEMO = Path(__file__).parent / "demo"
FILES = (("garbage", "gomi.csv"), ("general", "faq.csv"))


def faq_demo_ensure(*, municipality: Municipality, actor: User | None) -> int:
    """Import the demo lists of the kinds the municipality has no entries of."""
    added = 0
    for kind, name in FILES:
        if FaqEntry.objects.filter(kind=kind).exists():
            continue
        counts, reading = faq_import(
            actor=actor,  # type: ignore[arg-type]  (the seed acts as the system)
            municipality=municipality,
            kind=kind,
            content=(DEMO / name).read_bytes(),
        )
        if counts is None:
            raise ValueError(f"demo {name}: {reading.problems}")
        added += counts["added"]
    return added
