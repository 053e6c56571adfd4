"""How densely a corpus covers its events, and what that changes in story grouping."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

# A corpus's density is the median cosine of an article to its 5th most similar article in the
# window, among at most DENSITY_REFERENCE evenly spaced articles: the 5th neighbour of a bigger
# corpus is closer whatever its kind (real AI news: 0.47 at 1,000 articles, 0.54 at 4,000), so a
# fixed reference size keeps a big week of AI news from passing for an aggregator. Where many
# outlets rewrite every event (a Google-News-style aggregator: 0.64 on UCI News dev) a story is a
# broad, days-long event whose articles share little wording: the threshold falls linearly to
# DENSE_THRESHOLD across DENSITY_RAMP, and from the ramp's middle up the articles are first
# grouped into communities of their neighbour graph. Where most events are told once or twice
# (AI news from Reddit, HN and blogs: 0.47; the sample week: 0.40; bench/synthetic.py's 5,000
# templated articles: 0.57) nothing changes. UCI News test sits at 0.62, the ramp's top: the
# margins are thin. Measured in bench/eval_stories.py and bench/story_variants.py.
DENSE_THRESHOLD = 0.28
DENSITY_NEIGHBOUR = 5
DENSITY_RAMP = (0.58, 0.62)
DENSITY_REFERENCE = 1000
# Community edges: neighbour pairs at this cosine or more, weighted by it.
CORE_EDGE = 0.5
# Density is estimated on this many evenly spaced articles (against all), in row blocks.
DENSITY_SAMPLE = 512
_BLOCK = 64


def corpus_density(vectors: np.ndarray, times: np.ndarray, window: float) -> float:
    """Median cosine of an article to its 5th most similar article within `window` seconds
    (-1 for an article with fewer neighbours), over a sample of the articles, among at most
    DENSITY_REFERENCE of them spread evenly over the corpus."""
    if len(vectors) > DENSITY_REFERENCE:
        spread = np.linspace(0, len(vectors) - 1, DENSITY_REFERENCE).round().astype(np.int64)
        vectors, times = vectors[spread], times[spread]
    n = len(vectors)
    if n <= DENSITY_NEIGHBOUR:
        return -1.0
    rows = np.unique(np.linspace(0, n - 1, min(n, DENSITY_SAMPLE)).round().astype(np.int64))
    kth: list[np.ndarray] = []
    for start in range(0, len(rows), _BLOCK):
        block = rows[start : start + _BLOCK]
        sims = vectors[block] @ vectors.T
        sims[np.arange(len(block)), block] = -1.0
        sims[np.abs(times[block, None] - times[None, :]) > window] = -1.0
        kth.append(np.partition(sims, n - DENSITY_NEIGHBOUR, axis=1)[:, n - DENSITY_NEIGHBOUR])
    return float(np.median(np.concatenate(kth)))


def denseness(density: float) -> float:
    """How far up DENSITY_RAMP a corpus is: 0 below it, 1 above it."""
    low, high = DENSITY_RAMP
    return min(1.0, max(0.0, (density - low) / (high - low)))


def adaptive_threshold(threshold: float, density: float) -> float:
    """`threshold` in a sparse corpus, falling linearly to DENSE_THRESHOLD (never rising to
    it) as the corpus density crosses DENSITY_RAMP."""
    return threshold - denseness(density) * max(0.0, threshold - DENSE_THRESHOLD)


def dense_cores(
    vectors: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    groups: Sequence[Sequence[int]],
    density: float,
) -> list[list[int]]:
    """In a corpus at least halfway up DENSITY_RAMP, `groups` (starting clusters of articles)
    joined by the communities (Louvain, seeded) of the graph over their articles whose edges
    are the neighbour `pairs` at cosine CORE_EDGE or more; elsewhere `groups` unchanged.
    Average linkage then merges what is left: in a dense corpus this finds broad stories that
    pairwise cosine splits (UCI dev BCubed F1 0.913 against 0.875)."""
    if denseness(density) < 0.5 or len(groups) < 2:
        return [list(g) for g in groups]
    import igraph
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    items = np.array(sorted(i for members in groups for i in members), dtype=np.int64)
    node = np.full(len(vectors), -1, dtype=np.int64)
    node[items] = np.arange(len(items))
    ends = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    a, b = node[ends[:, 0]], node[ends[:, 1]]
    weight = np.einsum("ij,ij->i", vectors[ends[:, 0]], vectors[ends[:, 1]])
    keep = (a >= 0) & (b >= 0) & (weight >= CORE_EDGE)
    graph = igraph.Graph(n=len(items), edges=np.column_stack([a[keep], b[keep]]).tolist())
    # Louvain visits nodes in a random order: seed it so a run is repeatable.
    igraph.set_random_number_generator(random.Random(0))
    try:
        communities = graph.community_multilevel(weights=weight[keep].astype(float).tolist())
    finally:
        igraph.set_random_number_generator(random)
    # A starting group and a community both hold together: join them (connected components).
    links = [
        (members[0], m)
        for members in [*(node[list(g)] for g in groups), *communities]
        for m in members[1:]
    ]
    rows, cols = np.array(links, dtype=np.int64).reshape(-1, 2).T
    joined = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(items), len(items)))
    _, label = connected_components(joined, directed=False)
    cores: dict[int, list[int]] = {}
    for index, component in zip(items.tolist(), label.tolist(), strict=True):
        cores.setdefault(component, []).append(index)
    return list(cores.values())
