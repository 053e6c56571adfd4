"""Ranking: how much a story matters (publishers, weight, engagement, recency, novelty), and MMR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from digest.models import Article, Story, Theme

ENGAGEMENT_WEIGHT = 0.5
RECENCY_WEIGHT = 0.3
# A story already published that came back with new articles is worth less than a new one.
UPDATE_FACTOR = 0.6
MMR_LAMBDA = 0.7


def engagement(article: Article) -> float | None:
    """The points or upvotes of the article's discussion, or None when it has none."""
    if not article.discussion_url and not article.score:
        return None
    return float(article.score)


def engagement_ranks(articles: Sequence[Article]) -> dict[str, float]:
    """Each article's engagement as its percentile within its own source (0..1), so 500 HN
    points and 500 Reddit upvotes are not compared as equals."""
    by_source: dict[str, list[tuple[float, str]]] = {}
    for a in articles:
        if (value := engagement(a)) is not None:
            by_source.setdefault(a.source, []).append((value, a.id))
    ranks: dict[str, float] = {}
    for values in by_source.values():
        values.sort()
        for position, (_, article_id) in enumerate(values):
            ranks[article_id] = (position + 1) / len(values)
    return ranks


def story_score(
    story: Story,
    weights: Mapping[str, float],
    week_end: datetime,
    ranks: Mapping[str, float] | None = None,
) -> float:
    """Distinct publishers (weighted by source weight) count most; the best engagement within
    its source and recency add to it; an update of a published story counts less."""
    coverage = sum(weights.get(source, 1.0) for source in story.sources)
    latest = max(a.published_at for a in story.articles)
    age_days = max((week_end - latest).total_seconds() / 86400, 0.0)
    engaged = max(((ranks or {}).get(a.id, 0.0) for a in story.articles), default=0.0)
    score = coverage + ENGAGEMENT_WEIGHT * engaged + RECENCY_WEIGHT / (1.0 + age_days)
    return score * UPDATE_FACTOR if story.is_update else score


def theme_score(theme: Theme, scores: Mapping[str, float]) -> float:
    """A theme weighs what its best stories weigh, so many small items do not win by count."""
    ranked = sorted((scores[s.id] for s in theme.stories), reverse=True)
    return sum(score / (rank + 1) for rank, score in enumerate(ranked))


def mmr_order(scores: Sequence[float], vectors: np.ndarray, lam: float = MMR_LAMBDA) -> list[int]:
    """Indices in maximal-marginal-relevance order: each next pick trades its score (as a share
    of the best score) against its closeness to what was already picked, so near-repeats sink."""
    n = len(scores)
    if n == 0:
        return []
    value = np.asarray(scores, dtype=np.float64)
    relevance = value / (float(np.abs(value).max()) or 1.0)
    closest = np.full(n, -np.inf)
    left = list(range(n))
    order: list[int] = []
    while left:
        redundancy = np.where(np.isfinite(closest[left]), closest[left], 0.0)
        gains = lam * relevance[left] - (1 - lam) * redundancy
        pick = left[int(np.argmax(gains))]
        order.append(pick)
        left.remove(pick)
        if left:
            closest[left] = np.maximum(closest[left], vectors[left] @ vectors[pick])
    return order
