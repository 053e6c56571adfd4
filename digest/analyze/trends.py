"""Week over week: each theme matched to last week's to say new, continuing, rising or fading."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from digest.models import Theme

# Theme centroids closer than this are the same theme told again.
SAME_THEME = 0.7
RISING = 1.5
FADING = 1 / RISING


@dataclass(frozen=True)
class PastTheme:
    """What is kept of a week's theme for the next week to compare with."""

    id: str
    name: str
    count: int
    centroid: np.ndarray


def trend(count: int, previous: int | None) -> str:
    """new when last week had no such theme; rising or fading when it grew or shrank by half."""
    if previous is None:
        return "new"
    if count >= RISING * previous:
        return "rising"
    if count <= FADING * previous:
        return "fading"
    return "continuing"


def mark_trends(
    themes: Sequence[Theme], centroids: Mapping[str, np.ndarray], last_week: Sequence[PastTheme]
) -> tuple[Theme, ...]:
    """Themes with `trend` and `previous_count` set, each matched to at most one of last week's,
    closest pairs first."""
    pairs = sorted(
        (
            (float(centroids[t.id] @ p.centroid), ti, pi)
            for ti, t in enumerate(themes)
            for pi, p in enumerate(last_week)
        ),
        reverse=True,
    )
    match: dict[int, PastTheme] = {}
    taken: set[int] = set()
    for similarity, ti, pi in pairs:
        if similarity < SAME_THEME:
            break
        if ti not in match and pi not in taken:
            match[ti] = last_week[pi]
            taken.add(pi)
    marked = []
    for ti, theme in enumerate(themes):
        before = match.get(ti)
        previous = before.count if before else None
        marked.append(
            replace(
                theme,
                trend=trend(len(theme.stories), previous),
                previous_count=previous or 0,
                previous_name=before.name if before else "",
            )
        )
    return tuple(marked)
