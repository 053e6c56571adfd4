"""The fast paths of the analyze stage give what the plain definitions give, on random data."""

from __future__ import annotations

import numpy as np
import pytest

from digest.analyze import linkage, rank
from digest.analyze.linkage import neighbour_pairs
from digest.analyze.rank import mmr_order


def plain_mmr(scores: np.ndarray, vectors: np.ndarray, lam: float = rank.MMR_LAMBDA) -> list[int]:
    relevance = scores / np.abs(scores).max()
    closest = np.full(len(scores), -np.inf)
    left, order = list(range(len(scores))), []
    while left:
        redundancy = np.where(np.isfinite(closest[left]), closest[left], 0.0)
        pick = left[int(np.argmax(lam * relevance[left] - (1 - lam) * redundancy))]
        order.append(pick)
        left.remove(pick)
        for i in left:
            closest[i] = max(closest[i], float(vectors[i].astype(np.float64) @ vectors[pick]))
    return order


def plain_pairs(
    vectors: np.ndarray, times: np.ndarray, floor: float, window: float, k: int
) -> set[tuple[int, int]]:
    sims = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    sims[np.abs(times[:, None] - times[None, :]) > window] = -np.inf
    pairs = set()
    for i, row in enumerate(sims):
        for j in np.argsort(-row, kind="stable")[:k]:
            if row[j] >= floor:
                pairs.add((min(i, int(j)), max(i, int(j))))
    return pairs


def clustered(n: int, spread: float, common: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 4, 1), 32))
    v = common * rng.normal(size=32) + centres[rng.integers(0, len(centres), n)]
    v = v + spread * rng.normal(size=(n, 32))
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_mmr_order_is_plain_mmr(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small syncs and chunks, so that every path of the bounded search is taken.
    monkeypatch.setattr(rank, "MMR_SYNC", 5)
    monkeypatch.setattr(rank, "MMR_CHUNK", 2)
    rng = np.random.default_rng(seed)
    vectors = clustered(150, spread=0.3 + seed * 0.3, common=seed * 0.5, seed=seed)
    scores = np.round(rng.uniform(1, 4, len(vectors)), 1 if seed % 2 else 3)
    # Equal vectors with equal scores: the tie goes to the lower index.
    vectors[[40, 90]] = vectors[[11, 12]]
    scores[[40, 90]] = scores[[11, 12]]
    assert mmr_order(list(scores), vectors) == plain_mmr(scores, vectors)


@pytest.mark.parametrize(
    ("spread", "common", "days"), [(0.4, 0.0, 7), (0.8, 3.0, 7), (0.3, 0.0, 40)]
)
def test_neighbour_pairs_are_the_k_nearest_above_the_floor(
    spread: float, common: float, days: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks and a small hold, so that the band, the dense-block reduction and the
    # dropping of pairs no item keeps are all used on 600 items.
    monkeypatch.setattr(linkage, "BLOCK", 64)
    monkeypatch.setattr(linkage, "HELD_PER_ITEM", 8)
    vectors = clustered(600, spread, common, seed=days)
    times = np.random.default_rng(1).uniform(0, days * 86400, len(vectors))
    times[:50] = times[0]
    window = 14 * 86400.0
    found = neighbour_pairs(vectors, times, 0.5, window, k=5)
    assert found == sorted(set(found))
    expected = plain_pairs(vectors, times, 0.5, window, k=5)
    assert len(expected) > 300
    assert set(found) == expected
