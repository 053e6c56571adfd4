"""Ranking: how much a story matters this week, from who covered it and how recently."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from digest.models import Story, Theme


def story_score(story: Story, weights: Mapping[str, float], week_end: datetime) -> float:
    """Distinct publishers count most (weighted by source weight); recency breaks ties."""
    coverage = sum(weights.get(source, 1.0) for source in story.sources)
    latest = max(a.published_at for a in story.articles)
    age_days = max((week_end - latest).total_seconds() / 86400, 0.0)
    return coverage + 0.3 / (1.0 + age_days)


def theme_score(theme: Theme, scores: Mapping[str, float]) -> float:
    """A theme weighs what its best stories weigh, so many small items do not win by count."""
    ranked = sorted((scores[s.id] for s in theme.stories), reverse=True)
    return sum(score / (rank + 1) for rank, score in enumerate(ranked))
