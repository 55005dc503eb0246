"""Demo spots for ``seed_demo``: a few public facilities and evacuation sites around the
demo city, imported through the same path as a municipality's standard CSVs (once)."""

from pathlib import Path

from delivery.spots.models import Spot
from delivery.spots.services import spot_import_apply, spot_import_stage
from govtech.models import Municipality, User

DEMO = Path(__file__).parent / "demo"
FILES = (("facility", "facilities.csv"), ("evacuation_site", "evacuation_sites.csv"))


def spots_demo_ensure(*, municipality: Municipality, actor: User | None) -> int:
    """Import the demo datasets the municipality has no spots of; how many spots added."""
    added = 0
    for kind, name in FILES:
        if Spot.objects.filter(kind=kind).exists():
            continue
        staged, reading = spot_import_stage(
            actor=actor,  # type: ignore[arg-type]  (the seed acts as the system)
            municipality=municipality,
            kind=kind,
            filename=name,
            content=(DEMO / name).read_bytes(),
        )
        if staged is None:
            raise ValueError(f"demo {name}: {reading.problems}")
        summary = spot_import_apply(actor=actor, staged=staged, remove_missing=False)  # type: ignore[arg-type]
        added += summary["added"]
    return added
