"""Average-linkage agglomeration over a sparse neighbour graph, with frozen (stored) clusters."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# How many nearest neighbours each item offers as merge candidates, and the rows per block of
# the blocked matrix product that finds them (bounds memory: BLOCK x items floats at a time).
NEIGHBOURS = 12
BLOCK = 512
# Candidate pairs held before the ones no item keeps among its best are dropped, per item.
HELD_PER_ITEM = 64
# Candidate pairs as positions a < b in time order, with their cosines.
_Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


def neighbour_pairs(
    vectors: np.ndarray, times: np.ndarray, floor: float, window: float, k: int = NEIGHBOURS
) -> list[tuple[int, int]]:
    """Pairs (i < j) where j is among i's k most similar items (or i among j's) within `window`
    seconds of each other and with cosine at least `floor`, in ascending order.

    Each pair's cosine is computed once (the upper triangle of the similarity matrix, in
    blocks of rows over the band of items within the window), and only those reaching `floor`
    are kept, so the cost is one half matrix product, not a sort of every row.
    """
    n = len(vectors)
    if n < 2:
        return []
    order = np.argsort(times, kind="stable")
    v, t = np.ascontiguousarray(vectors[order], dtype=np.float32), times[order]
    found: list[_Pairs] = []
    held = 0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        # Items sorted by time: only items up to `hi` can be within the window of this block.
        hi = int(np.searchsorted(t, t[stop - 1] + window, side="right"))
        sims = v[start:stop] @ v[start:hi].T
        wanted = sims >= floor
        # Each pair once: in the square at the start of the band, only above the diagonal.
        wanted[:, : stop - start] &= np.tri(stop - start, k=-1, dtype=bool).T
        if t[hi - 1] - t[start] > window:
            wanted &= t[None, start:hi] - t[start:stop, None] <= window
        if np.count_nonzero(wanted) > 4 * k * (stop - start):
            wanted = _block_best(np.where(wanted, sims, -np.inf), k)
        rows, cols = np.nonzero(wanted)
        found.append((rows + start, cols + start, sims[rows, cols]))
        held += len(rows)
        if held > HELD_PER_ITEM * n and len(found) > 1:
            found = [_best_of_each(_joined(found), k)]
            held = len(found[0][0])
    a, b, _ = _best_of_each(_joined(found), k)
    first, second = np.minimum(order[a], order[b]), np.maximum(order[a], order[b])
    ranked = np.lexsort((second, first))
    return list(zip(first[ranked].tolist(), second[ranked].tolist(), strict=True))


def _block_best(sims: np.ndarray, k: int) -> np.ndarray:
    """Which finite entries of a block are among the k highest of their row or their column:
    no other entry can be among its items' k best overall. Used when most items are similar
    (a dense block), where keeping every candidate would crowd memory."""
    best = np.zeros(sims.shape, dtype=bool)
    if sims.shape[1] > k:
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best[np.arange(sims.shape[0])[:, None], top] = True
    else:
        best[:] = True
    if sims.shape[0] > k:
        top = np.argpartition(-sims, k - 1, axis=0)[:k, :]
        best[top, np.arange(sims.shape[1])[None, :]] = True
    else:
        best[:] = True
    return np.asarray(best & np.isfinite(sims))


def _joined(parts: Sequence[_Pairs]) -> _Pairs:
    a, b, sims = zip(*parts, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(sims)


def _best_of_each(pairs: _Pairs, k: int) -> _Pairs:
    """The pairs (a[p], b[p]) with cosine sims[p] that are among the k most similar of either
    of their items."""
    a, b, sims = pairs
    ends = np.concatenate([a, b])
    pair = np.tile(np.arange(len(a)), 2)
    by_item = np.lexsort((-np.concatenate([sims, sims]), ends))
    ends, pair = ends[by_item], pair[by_item]
    first = np.searchsorted(ends, ends, side="left")
    best = np.zeros(len(a), dtype=bool)
    best[pair[np.arange(len(ends)) - first < k]] = True
    return a[best], b[best], sims[best]


@dataclass
class _Cluster:
    total: np.ndarray
    size: int
    members: list[int]
    frozen: bool
    neighbours: set[int]
    tokens: frozenset[str]
    first: float
    # Sums of pair bonuses to the clusters it has any with.
    bonus: dict[int, float]


def agglomerate(
    vectors: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    threshold: float,
    tokens: Sequence[frozenset[str]],
    adjust: Callable[[frozenset[str], frozenset[str]], float],
    initial: Sequence[Sequence[int]] = (),
    frozen: Sequence[bool] = (),
    bonus: Mapping[tuple[int, int], float] | None = None,
    times: np.ndarray | None = None,
    span: float = float("inf"),
    span_cosine: float = float("inf"),
) -> list[list[int]]:
    """Merge clusters while, for the best candidate pair, the mean pairwise cosine plus `adjust`
    (a bonus or penalty from the union of each cluster's item `tokens`) reaches `threshold`;
    the best pair merges first.

    Vectors must be unit length: the mean pairwise cosine of two clusters is then the dot
    product of their vector sums over the product of their sizes, so the linkage is exact.
    `initial` are starting clusters (every item not in one starts alone); two `frozen`
    clusters never merge with each other, so stored stories keep their members apart.
    `bonus` adds to the linkage of two clusters the mean over their item pairs of a per-pair
    bonus (absent pairs count 0; its pairs are merge candidates too), and two clusters whose
    first items (by `times`, seconds) are more than `span` apart merge only at a mean cosine of
    `span_cosine` or more.
    """
    pair_bonus = bonus or {}
    when = np.zeros(len(vectors)) if times is None else times
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
        first = float(when[members].min())
        clusters[index] = _Cluster(
            total, len(members), members, flags[index], set(), words, first, {}
        )
    for i, j in pairs:
        a, b = int(owner[i]), int(owner[j])
        if a != b:
            clusters[a].neighbours.add(b)
            clusters[b].neighbours.add(a)
    for (i, j), extra in pair_bonus.items():
        a, b = int(owner[i]), int(owner[j])
        if a != b:
            clusters[a].neighbours.add(b)
            clusters[b].neighbours.add(a)
            clusters[a].bonus[b] = clusters[a].bonus.get(b, 0.0) + extra
            clusters[b].bonus[a] = clusters[b].bonus.get(a, 0.0) + extra

    def link(a: int, b: int) -> float | None:
        x, y = clusters[a], clusters[b]
        if x.frozen and y.frozen:
            return None
        cosine = float(x.total @ y.total) / (x.size * y.size)
        if abs(x.first - y.first) > span and cosine < span_cosine:
            return None
        return cosine + x.bonus.get(b, 0.0) / (x.size * y.size) + adjust(x.tokens, y.tokens)

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
            min(x.first, y.first),
            {},
        )
        new = next_id
        next_id += 1
        for c in (x.bonus.keys() | y.bonus.keys()) - {a, b}:
            merged.bonus[c] = x.bonus.get(c, 0.0) + y.bonus.get(c, 0.0)
        clusters[new] = merged
        for c in merged.neighbours:
            other = clusters[c].neighbours
            other.discard(a)
            other.discard(b)
            other.add(new)
            sums = clusters[c].bonus
            if a in sums or b in sums:
                sums[new] = sums.pop(a, 0.0) + sums.pop(b, 0.0)
            if (score := link(new, c)) is not None and score >= threshold:
                heapq.heappush(heap, (-score, min(new, c), max(new, c)))
    return [c.members for c in clusters.values()]
