"""Size-aware story linkage, measured: does lowering the threshold for big clusters fit UCI
without merging AI-news events? BCubed on UCI dev, the sample week and the AI-news URL groups.

Run by hand: .venv/bin/python bench/story_variants.py
Each variant adds beta * log(size / m0) (capped) to the linkage score of two clusters, where
size is the smaller, larger or geometric mean of their sizes. Vectors are cached in
.cache/vectors.db. UCI timestamps are dropped (they leak the labels).
"""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from corpora import CACHE, ai_news, sample_week, uci

from digest.analyze.embed import SentenceTransformerEmbedder, embed_articles
from digest.analyze.evaluate import bcubed
from digest.analyze.items import article_from_item
from digest.analyze.linkage import neighbour_pairs
from digest.analyze.stories import _initial_clusters, specific_tokens, token_adjustment
from digest.models import Article
from digest.store import Store

SIZE: dict[str, Callable[[int, int], float]] = {
    "min": lambda a, b: min(a, b),
    "max": lambda a, b: max(a, b),
    "geo": lambda a, b: math.sqrt(a * b),
}
# (size rule, beta, m0, cap); beta 0 is the shipped linkage at 0.62.
VARIANTS = [("min", 0.0, 1, 0.0)] + [
    (rule, beta, m0, 0.35)
    for rule in ("min", "max", "geo")
    for beta, m0 in ((0.1, 2), (0.15, 3), (0.2, 4))
]


def link(
    vectors: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    tokens: Sequence[frozenset[str]],
    initial: Sequence[Sequence[int]],
    score: Callable[[float, int, int, frozenset[str], frozenset[str]], float],
) -> list[list[int]]:
    """Average linkage over candidate pairs, merging while score(mean cosine, sizes, tokens)
    >= 0 (the shipped agglomerate, with the sizes passed to the score)."""
    owner = np.full(len(vectors), -1)
    groups = [list(g) for g in initial]
    for k, members in enumerate(groups):
        owner[members] = k
    for alone in np.flatnonzero(owner < 0).tolist():
        owner[alone] = len(groups)
        groups.append([alone])
    clusters: dict[int, list[Any]] = {}
    for k, members in enumerate(groups):
        words = frozenset().union(*(tokens[m] for m in members))
        total = vectors[members].sum(axis=0, dtype=np.float64)
        clusters[k] = [total, len(members), members, set(), words]
    for i, j in pairs:
        a, b = int(owner[i]), int(owner[j])
        if a != b:
            clusters[a][3].add(b)
            clusters[b][3].add(a)

    def value(a: int, b: int) -> float:
        x, y = clusters[a], clusters[b]
        return score(float(x[0] @ y[0]) / (x[1] * y[1]), x[1], y[1], x[4], y[4])

    heap = [
        (-s, a, b) for a in clusters for b in clusters[a][3] if a < b and (s := value(a, b)) >= 0
    ]
    heapq.heapify(heap)
    next_id = len(groups)
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in clusters or b not in clusters:
            continue
        x, y = clusters.pop(a), clusters.pop(b)
        near = (x[3] | y[3]) - {a, b}
        clusters[next_id] = [x[0] + y[0], x[1] + y[1], x[2] + y[2], near, x[4] | y[4]]
        for c in near:
            clusters[c][3] -= {a, b}
            clusters[c][3].add(next_id)
            if (s := value(next_id, c)) >= 0:
                heapq.heappush(heap, (-s, min(next_id, c), max(next_id, c)))
        next_id += 1
    return [c[2] for c in clusters.values()]


def size_aware(
    rule: str, beta: float, m0: int, cap: float
) -> Callable[[float, int, int, frozenset[str], frozenset[str]], float]:
    def score(mean: float, a: int, b: int, x: frozenset[str], y: frozenset[str]) -> float:
        bonus = min(cap, beta * max(0.0, math.log(SIZE[rule](a, b) / m0)))
        return mean + token_adjustment(x, y) + bonus - 0.62

    return score


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    store = Store(f"sqlite:///{CACHE}")
    week, week_gold, _ = sample_week()
    sets = {"uci_dev": uci("dev"), "sample_week": (week, week_gold), "ai_news": ai_news()}
    prepared: dict[str, tuple[list[Article], np.ndarray, dict[str, str]]] = {}
    for name, (items, gold) in sets.items():
        if name.startswith("uci"):
            items = [{**i, "published_at": None} for i in items]
        articles = [article_from_item(i, name) for i in items]
        prepared[name] = (articles, embed_articles(articles, embedder, store), gold)
    store.close()
    figures: dict[str, Any] = {}
    for rule, beta, m0, cap in VARIANTS:
        score = size_aware(rule, beta, m0, cap)
        row = []
        for name, (articles, vectors, gold) in prepared.items():
            times = np.array([a.published_at.timestamp() for a in articles])
            tokens = [specific_tokens(f"{a.title} {a.summary}") for a in articles]
            initial = [m for m, _ in _initial_clusters([], articles, 0)]
            pairs = neighbour_pairs(vectors, times, 0.1, 14 * 86400)
            clusters = link(vectors, pairs, tokens, initial, score)
            predicted = {articles[i].id: str(n) for n, m in enumerate(clusters) for i in m}
            result = bcubed(predicted, gold)
            mixed: dict[str, set[str]] = defaultdict(set)
            for item, story in predicted.items():
                if item in gold:
                    mixed[story].add(gold[item])
            wrong = sum(len(s) > 1 for s in mixed.values())
            row.append(f"{name} P {result.precision:.3f} R {result.recall:.3f} F1 {result.f1:.3f}")
            if name == "sample_week":
                row[-1] += f" ({wrong} wrong merges)"
            figures[f"{rule}-{beta}-{m0}-{name}"] = round(result.f1, 3)
        print(f"{rule} beta {beta} m0 {m0}: " + " | ".join(row), flush=True)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
