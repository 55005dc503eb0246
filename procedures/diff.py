"""What changed between two procedure documents, step by step (pure; no database)."""

from dataclasses import dataclass
from typing import Any

TOP_LEVEL_FIELDS = (
    "title",
    "description",
    "kind",
    "category",
    "languages",
    "triggers",
    "fee",
    "completion",
)


@dataclass(frozen=True)
class Change:
    """One difference. ``kind``: added, removed, changed, moved. ``where``: a path."""

    kind: str
    where: str
    step_id: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "step_id": self.step_id,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


def _steps_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in document.get("steps", []) if "id" in step}


def _step_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    old_steps, new_steps = _steps_by_id(old), _steps_by_id(new)
    changes = [
        Change("removed", f"steps.{sid}", sid, old=old_steps[sid])
        for sid in old_steps
        if sid not in new_steps
    ]
    for sid, step in new_steps.items():
        if sid not in old_steps:
            changes.append(Change("added", f"steps.{sid}", sid, new=step))
            continue
        before = old_steps[sid]
        for name in sorted(set(before) | set(step)):
            if before.get(name) != step.get(name):
                changes.append(
                    Change(
                        "changed",
                        f"steps.{sid}.{name}",
                        sid,
                        name,
                        before.get(name),
                        step.get(name),
                    )
                )
    kept_old = [sid for sid in old_steps if sid in new_steps]
    kept_new = [sid for sid in new_steps if sid in old_steps]
    if kept_old != kept_new:
        changes.append(Change("moved", "steps", old=kept_old, new=kept_new))
    return changes


def document_diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Differences from ``old`` to ``new``: top-level fields first, then steps by id.

    Steps are matched by id, so a renamed prompt is a change of that step, and a step
    moved elsewhere is reported once as a new order.
    """
    changes = [
        Change("changed", name, field=name, old=old.get(name), new=new.get(name))
        for name in TOP_LEVEL_FIELDS
        if old.get(name) != new.get(name)
    ]
    return changes + _step_changes(old, new)
