"""Average-linkage agglomeration over a sparse neighbour graph, with frozen (stored) clusters."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# How many nearest neighbours each item offers as merge candidates, and the block size of the
# blocked matrix product that finds them (rows per block; bounds memory: on 20,000 items 512
# rows took half the time and a third of the peak memory of 2,048).
NEIGHBOURS = 12
BLOCK = 512


def neighbour_pairs(
    vectors: np.ndarray, times: np.ndarray, floor: float, window: float, k: int = NEIGHBOURS
) -> list[tuple[int, int]]:
    """Pairs (i < j) where j is among i's k most similar items (or i among j's) within `window`
    seconds of each other and with cosine at least `floor`."""
    n = len(vectors)
    pairs: set[tuple[int, int]] = set()
    if n < 2:
        return []
    order = np.argsort(times, kind="stable")
    v, t = vectors[order], times[order]
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        # Items sorted by time: only a band of columns can fall within the window.
        lo = int(np.searchsorted(t, t[start] - window, side="left"))
        hi = int(np.searchsorted(t, t[stop - 1] + window, side="right"))
        sims = v[start:stop] @ v[lo:hi].T
        rows = np.arange(start, stop)
        sims[rows - start, rows - lo] = -1.0
        if t[hi - 1] - t[start] > window or t[stop - 1] - t[lo] > window:
            far = np.abs(t[start:stop, None] - t[None, lo:hi]) > window
            sims[far] = -1.0
        kk = min(k, hi - lo - 1)
        if kk <= 0:
            continue
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        for r, cols in enumerate(top):
            i = int(order[start + r])
            for c in cols:
                if sims[r, c] >= floor:
                    j = int(order[lo + c])
                    pairs.add((i, j) if i < j else (j, i))
    return sorted(pairs)


@dataclass
class _Cluster:
    total: np.ndarray
    size: int
    members: list[int]
    frozen: bool
    neighbours: set[int]
    tokens: frozenset[str]


def agglomerate(
    vectors: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    threshold: float,
    tokens: Sequence[frozenset[str]],
    adjust: Callable[[frozenset[str], frozenset[str]], float],
    initial: Sequence[Sequence[int]] = (),
    frozen: Sequence[bool] = (),
) -> list[list[int]]:
    """Merge clusters while, for the best candidate pair, the mean pairwise cosine plus `adjust`
    (a bonus or penalty from the union of each cluster's item `tokens`) reaches `threshold`;
    the best pair merges first.

    Vectors must be unit length: the mean pairwise cosine of two clusters is then the dot
    product of their vector sums over the product of their sizes, so the linkage is exact.
    `initial` are starting clusters (every item not in one starts alone); two `frozen`
    clusters never merge with each other, so stored stories keep their members apart.
    """
    owner = np.full(len(vectors), -1, dtype=np.int64)
    clusters: dict[int, _Cluster] = {}
    groups = [list(g) for g in initial]
    flags = list(frozen) + [False] * (len(groups) - len(frozen))
    for index, members in enumerate(groups):
        owner[members] = index
    for alone in np.flatnonzero(owner < 0).tolist():
        owner[alone] = len(groups)
        groups.append([alone])
        flags.append(False)
    for index, members in enumerate(groups):
        total = vectors[members].sum(axis=0, dtype=np.float64)
        words = frozenset().union(*(tokens[m] for m in members))
        clusters[index] = _Cluster(total, len(members), members, flags[index], set(), words)
    for i, j in pairs:
        a, b = int(owner[i]), int(owner[j])
        if a != b:
            clusters[a].neighbours.add(b)
            clusters[b].neighbours.add(a)

    def link(a: int, b: int) -> float | None:
        x, y = clusters[a], clusters[b]
        if x.frozen and y.frozen:
            return None
        mean = float(x.total @ y.total) / (x.size * y.size)
        return mean + adjust(x.tokens, y.tokens)

    heap: list[tuple[float, int, int]] = []
    for a, cluster in clusters.items():
        for b in cluster.neighbours:
            if a < b and (score := link(a, b)) is not None and score >= threshold:
                heap.append((-score, a, b))
    heapq.heapify(heap)
    next_id = len(groups)
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in clusters or b not in clusters:
            continue
        x, y = clusters.pop(a), clusters.pop(b)
        merged = _Cluster(
            x.total + y.total,
            x.size + y.size,
            x.members + y.members,
            x.frozen or y.frozen,
            (x.neighbours | y.neighbours) - {a, b},
            x.tokens | y.tokens,
        )
        new = next_id
        next_id += 1
        clusters[new] = merged
        for c in merged.neighbours:
            other = clusters[c].neighbours
            other.discard(a)
            other.discard(b)
            other.add(new)
            if (score := link(new, c)) is not None and score >= threshold:
                heapq.heappush(heap, (-score, min(new, c), max(new, c)))
    return [c.members for c in clusters.values()]
