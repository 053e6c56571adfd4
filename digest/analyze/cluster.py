"""The analyze stage alone on a list of items: each item's story and theme (`digest cluster`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import numpy as np

from digest.analyze import build_themes, make_story
from digest.analyze.embed import Embedder, VectorCache, embed_articles
from digest.analyze.stories import group_stories
from digest.errors import ConfigError
from digest.models import Article


class GroupingSettings(Protocol):
    """The knobs of grouping (config's [analyze] section is one)."""

    @property
    def story_threshold(self) -> float: ...
    @property
    def story_window_days(self) -> int: ...
    @property
    def min_theme_size(self) -> int: ...


@dataclass(frozen=True)
class Assignment:
    """Where one item went: its story, and its theme (None when it fits no theme)."""

    id: str
    story: str
    theme: str | None


def cluster_articles(
    articles: Sequence[Article],
    embedder: Embedder,
    cache: VectorCache,
    settings: GroupingSettings,
) -> list[Assignment]:
    """Group the articles into stories and the stories into themes, with the given settings.
    Every theme is kept: none is cut to fit an issue."""
    s = settings
    if not articles:
        return []
    vectors = embed_articles(articles, embedder, cache)
    window = timedelta(days=s.story_window_days)
    grouping = group_stories(articles, vectors, [], s.story_threshold, window)
    rows: dict[str, list[int]] = {}
    for i, article in enumerate(articles):
        rows.setdefault(grouping.assignments[article.id], []).append(i)
    stories, centroids = [], []
    for story_id, members in rows.items():
        story, centroid = make_story(
            story_id, [articles[i] for i in members], vectors[members], False
        )
        stories.append(story)
        centroids.append(centroid)
    end = max(a.published_at for a in articles)
    analysis = build_themes(
        stories, np.vstack(centroids), {}, end, s.min_theme_size, max_themes=len(stories)
    )
    theme_of = {story.id: t.id for t in analysis.themes for story in t.stories}
    return [
        Assignment(a.id, grouping.assignments[a.id], theme_of.get(grouping.assignments[a.id]))
        for a in articles
    ]


def write_assignments(assignments: Sequence[Assignment], path: Path) -> None:
    """One JSON object per item, in input order: {"id", "story", "theme"}."""
    lines = [
        json.dumps({"id": a.id, "story": a.story, "theme": a.theme}, ensure_ascii=False)
        for a in assignments
    ]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror}); check --output") from exc
