"""Three-way merge of procedure documents (pure; no database).

``base`` is the template version a procedure was imported from, ``theirs`` the newer
template version, ``ours`` the procedure's current draft. Documents are compared like
``procedures.diff``: top-level fields by name, steps by id and then field by field.

- A field changed on one side only takes that side's value; changed the same way on both
  sides is no conflict.
- A field changed differently on both sides, a step deleted on one side and changed on
  the other, a step added on both sides with different fields, and a different new
  order of steps on both sides are conflicts. They are never decided silently: each
  needs a resolution (``"ours"`` keep mine, ``"theirs"`` take theirs) before the
  result is complete.
- The procedure's key always stays ours (the key of a procedure never changes).
"""

from dataclasses import dataclass, field
from typing import Any, Literal


class _Missing:
    """A field or step that is absent on one side (not the same as JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
Resolution = Literal["ours", "theirs"]
RESOLUTIONS = ("ours", "theirs")
KEPT_FIELDS = ("format", "key")  # always ours


@dataclass(frozen=True)
class Conflict:
    """One place both sides changed. ``where`` identifies it (``steps.photo.prompt``)."""

    where: str
    kind: str  # both_changed | deleted_by_us | deleted_by_them | order
    step_id: str | None = None
    field: str | None = None
    base: Any = None
    ours: Any = None
    theirs: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: an absent value is null."""
        return {
            "where": self.where,
            "kind": self.kind,
            "step_id": self.step_id,
            "field": self.field,
            "base": _plain(self.base),
            "ours": _plain(self.ours),
            "theirs": _plain(self.theirs),
        }


def _plain(value: Any) -> Any:
    return None if value is MISSING else value


@dataclass
class MergeResult:
    """The merged document and every conflict; ``unresolved`` ones block applying."""

    document: dict[str, Any]
    conflicts: list[Conflict] = field(default_factory=list)
    unresolved: list[Conflict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.unresolved


class _Merger:
    def __init__(self, resolutions: dict[str, str]) -> None:
        self.resolutions = resolutions
        self.conflicts: list[Conflict] = []
        self.unresolved: list[Conflict] = []

    def decide(self, conflict: Conflict) -> Any:
        """The chosen side's value; ours (kept, flagged unresolved) until someone chooses."""
        self.conflicts.append(conflict)
        choice = self.resolutions.get(conflict.where)
        if choice not in RESOLUTIONS:
            self.unresolved.append(conflict)
            choice = "ours"
        return conflict.theirs if choice == "theirs" else conflict.ours

    def value(self, where: str, base: Any, ours: Any, theirs: Any, **names: Any) -> Any:
        if ours == theirs or theirs == base:
            return ours
        if ours == base:
            return theirs
        conflict = Conflict(where, "both_changed", base=base, ours=ours, theirs=theirs, **names)
        return self.decide(conflict)

    def fields(self, where: str, base: dict, ours: dict, theirs: dict, step_id=None) -> dict:
        merged = {}
        for name in _ordered_union(ours, theirs, base):
            if step_id is None and name in (*KEPT_FIELDS, "steps"):
                continue
            value = self.value(
                f"{where}{name}",
                base.get(name, MISSING),
                ours.get(name, MISSING),
                theirs.get(name, MISSING),
                **({"step_id": step_id, "field": name} if step_id else {"field": name}),
            )
            if value is not MISSING:
                merged[name] = value
        return merged


def _ordered_union(*dicts: dict) -> list[str]:
    names: list[str] = []
    for each in dicts:
        names += [name for name in each if name not in names]
    return names


def _steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in document.get("steps", []) if "id" in step}


def _merge_step(merger: _Merger, sid: str, base, ours, theirs) -> dict | None:
    """The merged step, or None when it is deleted."""
    where = f"steps.{sid}"
    if base is None:  # added on one side, or on both
        if ours is None or theirs is None or ours == theirs:
            return ours or theirs
        return merger.fields(f"{where}.", {}, ours, theirs, step_id=sid)
    if ours is None and theirs is None:
        return None
    if ours is None:
        if theirs == base:
            return None
        return merger.decide(Conflict(where, "deleted_by_us", sid, base=base, theirs=theirs))
    if theirs is None:
        if ours == base:
            return None
        return merger.decide(Conflict(where, "deleted_by_them", sid, base=base, ours=ours))
    return merger.fields(f"{where}.", base, ours, theirs, step_id=sid)


def _order(merger: _Merger, base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """The skeleton order: the side that reordered the steps both kept, else ours."""
    common = [sid for sid in base if sid in ours and sid in theirs]
    ours_common = [sid for sid in ours if sid in common]
    theirs_common = [sid for sid in theirs if sid in common]
    if ours_common == theirs_common or theirs_common == common:
        return ours
    if ours_common == common:
        return theirs
    conflict = Conflict("steps", "order", base=base, ours=ours, theirs=theirs)
    return theirs if merger.decide(conflict) == theirs else ours


def _arrange(skeleton: list[str], other: list[str], kept: list[str]) -> list[str]:
    """Skeleton ids that survive, with the other side's new ids after their predecessor."""
    result = [sid for sid in skeleton if sid in kept]
    for index, sid in enumerate(other):
        if sid in result or sid not in kept:
            continue
        before = [p for p in other[:index] if p in result]
        position = result.index(before[-1]) + 1 if before else 0
        result.insert(position, sid)
    for sid in kept:  # steps only base ordered (kept through a conflict resolution)
        if sid not in result:
            result.append(sid)
    return result


def merge_documents(
    base: dict[str, Any],
    ours: dict[str, Any],
    theirs: dict[str, Any],
    resolutions: dict[str, str] | None = None,
) -> MergeResult:
    """Merge ``theirs`` into ``ours`` relative to ``base``; see the module docstring.

    ``resolutions`` maps a conflict's ``where`` to ``"ours"`` or ``"theirs"``. The result
    lists every conflict found, and those still unresolved (their place keeps ours).
    """
    merger = _Merger(dict(resolutions or {}))
    document = {name: ours[name] for name in KEPT_FIELDS if name in ours}
    document.update(merger.fields("", base, ours, theirs))
    b, o, t = _steps(base), _steps(ours), _steps(theirs)
    merged_steps = {}
    for sid in _ordered_union(o, t, b):
        step = _merge_step(merger, sid, b.get(sid), o.get(sid), t.get(sid))
        if step is not None:
            merged_steps[sid] = step
    skeleton = _order(merger, list(b), list(o), list(t))
    other = list(t) if skeleton == list(o) else list(o)
    order = _arrange(skeleton, other, list(merged_steps))
    document["steps"] = [merged_steps[sid] for sid in order]
    return MergeResult(document, merger.conflicts, merger.unresolved)
