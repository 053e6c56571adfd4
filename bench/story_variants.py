"""Story grouping variants, measured: which fit UCI's broad stories without merging AI-news or
sample-week events? BCubed F1 (P/R) on UCI dev, the AI-news URL groups and the sample week.

Run by hand: .venv/bin/python bench/story_variants.py   (UCI test is printed for the shipped
variant only: tune on dev.) Vectors are cached in .cache/vectors.db; UCI timestamps are
dropped (they leak the labels). Each variant is average linkage over the shipped candidate
pairs with its own linkage score (merge while >= 0), optionally from other starting clusters.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from corpora import CACHE, ai_news, sample_week, uci

from digest.analyze.density import (
    DENSITY_NEIGHBOUR,
    adaptive_threshold,
    corpus_density,
    dense_cores,
)
from digest.analyze.embed import SentenceTransformerEmbedder, embed_articles
from digest.analyze.evaluate import bcubed
from digest.analyze.items import article_from_item
from digest.analyze.linkage import neighbour_pairs
from digest.analyze.stories import _initial_clusters, group_stories, specific_tokens
from digest.models import Article
from digest.store import Store

WINDOW = 14 * 86400.0


class Cluster:
    def __init__(self, vectors: np.ndarray, members: list[int], words: frozenset[str]) -> None:
        self.total = vectors[members].sum(axis=0, dtype=np.float64)
        self.members, self.words, self.near = members, words, set[int]()
        self.local = 0.0  # sum of the members' own density (see local_density)

    @property
    def spread(self) -> float:
        """Norm of the mean vector: 1 for one article, lower for a broad cluster."""
        return float(np.linalg.norm(self.total)) / len(self.members)


Score = Callable[[float, Cluster, Cluster], float]


def link(
    vectors: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    tokens: Sequence[frozenset[str]],
    initial: Sequence[Sequence[int]],
    score: Score,
    local: np.ndarray | None = None,
) -> list[list[int]]:
    """Average linkage over candidate pairs, best first, while score(mean cosine, x, y) >= 0."""
    owner = np.full(len(vectors), -1)
    groups = [list(g) for g in initial]
    for k, members in enumerate(groups):
        owner[members] = k
    groups += [[i] for i in np.flatnonzero(owner < 0).tolist()]
    clusters: dict[int, Cluster] = {}
    for k, members in enumerate(groups):
        owner[members] = k
        clusters[k] = Cluster(vectors, members, frozenset().union(*(tokens[m] for m in members)))
        clusters[k].local = float(local[members].sum()) if local is not None else 0.0
    for i, j in pairs:
        a, b = int(owner[i]), int(owner[j])
        if a != b:
            clusters[a].near.add(b)
            clusters[b].near.add(a)

    def value(a: int, b: int) -> float:
        x, y = clusters[a], clusters[b]
        return score(float(x.total @ y.total) / (len(x.members) * len(y.members)), x, y)

    heap = [
        (-s, a, b) for a in clusters for b in clusters[a].near if a < b and (s := value(a, b)) >= 0
    ]
    heapq.heapify(heap)
    next_id = len(groups)
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in clusters or b not in clusters:
            continue
        x, y = clusters.pop(a), clusters.pop(b)
        merged = Cluster(vectors, x.members + y.members, x.words | y.words)
        merged.total, merged.local = x.total + y.total, x.local + y.local
        merged.near = (x.near | y.near) - {a, b}
        clusters[next_id] = merged
        for c in merged.near:
            clusters[c].near -= {a, b}
            clusters[c].near.add(next_id)
            if (s := value(next_id, c)) >= 0:
                heapq.heappush(heap, (-s, min(next_id, c), max(next_id, c)))
        next_id += 1
    return [c.members for c in clusters.values()]


def tokens_adjust(x: Cluster, y: Cluster, bonus: float = 0.06, penalty: float = 0.08) -> float:
    if not x.words or not y.words:
        return 0.0
    return bonus if x.words & y.words else -penalty


def fixed(t: float, bonus: float = 0.06, penalty: float = 0.08) -> Score:
    return lambda mean, x, y: mean + tokens_adjust(x, y, bonus, penalty) - t


def size_bonus(t: float, beta: float, m0: int) -> Score:
    """Max-size rule: a link between clusters of which one is big gets a (capped) bonus."""

    def score(mean: float, x: Cluster, y: Cluster) -> float:
        size = max(len(x.members), len(y.members))
        return mean + tokens_adjust(x, y) + min(0.35, beta * max(0.0, math.log(size / m0))) - t

    return score


def centroid(t: float, gamma: float) -> Score:
    """Mean cosine over (spread_x * spread_y) ** gamma: 1 is the cosine of the two centroids."""
    return lambda mean, x, y: mean / (x.spread * y.spread) ** gamma + tokens_adjust(x, y) - t


def local_density(t: float, beta: float, low: float) -> Score:
    """Threshold lowered by the clusters' own mean density (per article, not per corpus)."""

    def score(mean: float, x: Cluster, y: Cluster) -> float:
        d = (x.local + y.local) / (len(x.members) + len(y.members))
        return mean + tokens_adjust(x, y) - (t - beta * max(0.0, d - low))

    return score


def kth_neighbour(vectors: np.ndarray, times: np.ndarray) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    sims[np.abs(times[:, None] - times[None, :]) > WINDOW] = -1.0
    return -np.sort(-sims, axis=1)[:, DENSITY_NEIGHBOUR - 1].astype(np.float64)


Prepared = tuple[list[Article], np.ndarray, dict[str, str]]


def run(data: Prepared, variant: str) -> tuple[float, float, float]:
    articles, vectors, gold = data
    times = np.array([a.published_at.timestamp() for a in articles])
    tokens = [specific_tokens(f"{a.title} {a.summary}") for a in articles]
    initial = [m for m, _ in _initial_clusters([], articles, 0)]
    pairs = neighbour_pairs(vectors, times, 0.1, WINDOW)
    density = corpus_density(vectors, times, WINDOW)
    adaptive = adaptive_threshold(0.62, density)
    local = None
    if variant == "shipped (density ramp + cores)":
        g = group_stories(articles, vectors, [], 0.62, timedelta(seconds=WINDOW))
        result = bcubed(g.assignments, gold)
        return result.precision, result.recall, result.f1
    if variant == "fixed 0.62, no shared-token bonus":
        score = fixed(0.62, bonus=0.0)
    elif variant.startswith("fixed"):
        score = fixed(float(variant.split()[1]))
    elif variant == "density ramp only":
        score = fixed(adaptive)
    elif variant.startswith("size max"):
        score = size_bonus(0.62, 0.15, 3)
    elif variant.startswith("centroid"):
        score = centroid(0.65, 0.5)
    elif variant.startswith("local density"):
        score, local = local_density(0.62, 3.0, 0.6), kth_neighbour(vectors, times)
    elif variant.startswith("louvain cores only"):
        initial = dense_cores(vectors, pairs, initial, density=1.0)
        score = fixed(1.0)  # nothing merges after the communities
    elif variant.startswith("louvain cores everywhere"):
        initial = dense_cores(vectors, pairs, initial, density=1.0)
        score = fixed(adaptive)
    else:
        raise ValueError(variant)
    clusters = link(vectors, pairs, tokens, initial, score, local)
    predicted = {articles[i].id: str(n) for n, members in enumerate(clusters) for i in members}
    result = bcubed(predicted, gold)
    return result.precision, result.recall, result.f1


VARIANTS = [
    "fixed 0.62",
    "fixed 0.30",
    "fixed 0.62, no shared-token bonus",
    "size max beta 0.15 m0 3 (t 0.62)",
    "centroid gamma 0.5 (t 0.65)",
    "local density beta 3 from 0.6 (t 0.62)",
    "density ramp only",
    "louvain cores only (edges >= 0.5)",
    "louvain cores everywhere + density ramp",
    "shipped (density ramp + cores)",
]


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    store = Store(f"sqlite:///{CACHE}")
    week, week_gold, _ = sample_week()
    sets = {
        "uci_dev": uci("dev"),
        "ai_news": ai_news(),
        "sample_week": (week, week_gold),
        "uci_test": uci("test"),
    }
    prepared: dict[str, Prepared] = {}
    for name, (items, gold) in sets.items():
        if name.startswith("uci"):
            items = [{**i, "published_at": None} for i in items]
        articles = [article_from_item(i, name) for i in items]
        prepared[name] = (articles, embed_articles(articles, embedder, store), gold)
    store.close()
    for name, (articles, vectors, _) in prepared.items():
        times = np.array([a.published_at.timestamp() for a in articles])
        print(f"{name}: density {corpus_density(vectors, times, WINDOW):.3f}")
    figures: dict[str, Any] = {}
    print(f"{'variant':42s} " + " ".join(f"{n:>20s}" for n in prepared))
    for variant in VARIANTS:
        cells = []
        for name, data in prepared.items():
            if name == "uci_test" and not variant.startswith("shipped"):
                cells.append(f"{'-':>20s}")
                continue
            p, r, f1 = run(data, variant)
            cells.append(f"{f1:.3f} ({p:.2f}/{r:.2f})".rjust(20))
            figures[f"{variant} | {name}"] = round(f1, 3)
        print(f"{variant:42s} " + " ".join(cells), flush=True)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
