"""Which cells of a published table to hide so that no small count can be read or
recomputed.

Primary suppression hides every cell counting 1 to ``minimum - 1`` answers (an empty
cell shows 0: it names nobody). When the cells add up to a total that is shown (a
choice's options, a histogram's bins), one hidden cell would be the total minus the
others, and two hidden cells whose sum is small still tell that few people are in
them; so cells are hidden as well, smallest first, until at least two are hidden and
the hidden cells add up to ``minimum`` or more (secondary suppression).

A multiple choice's options do not add up to anything shown (a respondent may choose
several), so primary suppression is enough there. A question answered by fewer than
``minimum`` people is not published at all (``too_few``).
"""

from __future__ import annotations

from collections.abc import Sequence


def too_few(answered: int, minimum: int) -> bool:
    return answered < minimum


def primary(counts: Sequence[int], minimum: int) -> set[int]:
    """Indexes of the cells too small to show."""
    return {index for index, count in enumerate(counts) if 0 < count < minimum}


def hidden_cells(counts: Sequence[int], minimum: int, *, additive: bool = True) -> set[int]:
    """Indexes of the cells to hide: the small ones, and for ``additive`` cells (they sum
    to a shown total) enough others that none can be worked out."""
    hidden = primary(counts, minimum)
    if not additive:
        return hidden
    while hidden and _recomputable(counts, hidden, minimum):
        shown = [index for index in range(len(counts)) if index not in hidden]
        if not shown:
            break
        hidden.add(min(shown, key=lambda index: (counts[index], index)))
    return hidden


def _recomputable(counts: Sequence[int], hidden: set[int], minimum: int) -> bool:
    return len(hidden) < 2 or sum(counts[index] for index in hidden) < minimum
