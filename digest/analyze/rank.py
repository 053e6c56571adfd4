"""Ranking: a theme's weight from its stories' scores, and maximal-marginal-relevance order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from digest.models import Theme

MMR_LAMBDA = 0.7
# mmr_order brings every item up to date with the picks once per MMR_SYNC picks, and checks
# the items with the best bounds against the latest picks, MMR_CHUNK first, then twice as many.
MMR_SYNC = 64
MMR_CHUNK = 8


def theme_score(theme: Theme, scores: Mapping[str, float]) -> float:
    """A theme weighs what its best stories weigh, so many small items do not win by count."""
    ranked = sorted((scores[s.id] for s in theme.stories), reverse=True)
    return sum(score / (rank + 1) for rank, score in enumerate(ranked))


def mmr_order(scores: Sequence[float], vectors: np.ndarray, lam: float = MMR_LAMBDA) -> list[int]:
    """Indices in maximal-marginal-relevance order: each next pick trades its score (as a share
    of the best score) against its closeness to what was already picked, so near-repeats sink.
    Ties go to the lower index."""
    if len(scores) == 0:
        return []
    # Many small matrix products: BLAS threads cost more in waking than they save (20 times
    # the time on a loaded 2-core machine).
    with threadpool_limits(1, user_api="blas"):
        return _mmr(np.asarray(scores, dtype=np.float64), vectors, lam)


def _mmr(value: np.ndarray, vectors: np.ndarray, lam: float) -> list[int]:
    n = len(value)
    relevance = value / (float(np.abs(value).max()) or 1.0)
    # Nothing picked yet means no redundancy: the first pick is the most relevant item.
    first = int(np.argmax(relevance))
    picked = np.empty((n, vectors.shape[1]), dtype=vectors.dtype)
    picked[0] = vectors[first]
    order = [first]
    done = np.zeros(n, dtype=bool)
    done[first] = True
    closest = np.full(n, -np.inf)
    ranked, bounds = np.zeros(0, dtype=np.int64), np.zeros(0)
    synced = head = 0
    while len(order) < n:
        if synced == 0 or len(order) - synced >= MMR_SYNC:
            # Bring every item up to date with the picks since the last sync (one matrix
            # product); between syncs a gain from then bounds the current one from above, as
            # closeness to the picked set only grows, so only the items with the best bounds
            # need checking against the latest picks: O(n) per pick instead of O(n * dims).
            left = np.flatnonzero(~done)
            near = vectors[left] @ picked[synced : len(order)].T
            closest[left] = np.maximum(closest[left], near.max(axis=1))
            gains = lam * relevance[left] - (1 - lam) * closest[left]
            by_gain = np.lexsort((left, -gains))
            ranked, bounds, synced, head = left[by_gain], gains[by_gain], len(order), 0
        while done[ranked[head]]:
            head += 1
        recent = picked[synced : len(order)]
        pick = _best_gain(ranked, bounds, head, done, closest, relevance, lam, vectors, recent)
        picked[len(order)] = vectors[pick]
        order.append(pick)
        done[pick] = True
    return order


def _best_gain(
    ranked: np.ndarray,
    bounds: np.ndarray,
    head: int,
    done: np.ndarray,
    closest: np.ndarray,
    relevance: np.ndarray,
    lam: float,
    vectors: np.ndarray,
    recent: np.ndarray,
) -> int:
    """The item of highest current gain (lowest index among equals): items are checked in
    order of their bounds, a chunk at a time, until the best gain found beats the next bound."""
    best, best_gain = -1, -np.inf
    start, size = head, MMR_CHUNK
    while start < len(ranked):
        if best >= 0 and (best_gain, -best) >= (float(bounds[start]), -int(ranked[start])):
            break
        chunk = ranked[start : start + size]
        start, size = start + size, 2 * size
        chunk = chunk[~done[chunk]]
        if not len(chunk):
            continue
        near = closest[chunk]
        if len(recent):
            near = np.maximum(near, (vectors[chunk] @ recent.T).max(axis=1))
        gains = lam * relevance[chunk] - (1 - lam) * near
        top = float(gains.max())
        index = int(chunk[gains == top].min())
        if (top, -index) > (best_gain, -best):
            best, best_gain = index, top
    return best
