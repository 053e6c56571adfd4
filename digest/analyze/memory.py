"""Analyze's memory across weeks: stories kept with stable ids, and last week's themes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from digest.analyze.embed import Embedder, VectorCache, embed_articles
from digest.analyze.stories import group_stories
from digest.analyze.titles import make_story
from digest.analyze.trends import PastTheme, mark_trends
from digest.models import Article, Story, Theme


class StoryMemory(Protocol):
    """Which story each article joined, kept across weeks (the store implements it)."""

    def story_of(self, article_ids: Sequence[str]) -> dict[str, str]: ...
    def story_members(self, since: datetime) -> dict[str, list[str]]: ...
    def articles_by_id(self, ids: Sequence[str]) -> list[Article]: ...
    def assign_stories(
        self, assignments: dict[str, str], first_seen: dict[str, datetime]
    ) -> None: ...
    def published_in(self, story_ids: Sequence[str]) -> dict[str, str]: ...


class ThemeHistory(Protocol):
    """Each week's themes, kept for the next week to compare with (the store implements it)."""

    def week_themes(self, week: str) -> list[tuple[str, str, int, np.ndarray]]: ...
    def save_week_themes(
        self, week: str, themes: Sequence[tuple[str, str, int, np.ndarray]]
    ) -> None: ...


def week_stories(
    articles: Sequence[Article],
    memory: StoryMemory,
    embedder: Embedder,
    cache: VectorCache,
    start: datetime,
    threshold: float,
    window: timedelta,
    this_issue: str,
) -> tuple[list[Story], np.ndarray]:
    """Assign the week's new articles to stories (stable ids) and return the week's stories.

    An article joins a story of the last `window` before `start` when close enough, else starts
    one; a story first published in another issue than `this_issue` is an update.
    """
    vectors = embed_articles(articles, embedder, cache)
    index = {a.id: i for i, a in enumerate(articles)}
    assigned = memory.story_of(list(index))
    members = memory.story_members(start - window)
    member_articles = {
        a.id: a for a in memory.articles_by_id([i for m in members.values() for i in m])
    }
    known = []
    for story_id, ids in members.items():
        arts = [member_articles[i] for i in ids]
        known.append((story_id, arts, embed_articles(arts, embedder, cache)))
    fresh = [a for a in articles if a.id not in assigned]
    grouping = group_stories(
        fresh,
        vectors[[index[a.id] for a in fresh]] if fresh else vectors[:0],
        known,
        threshold,
        window,
    )
    memory.assign_stories(
        grouping.assignments, {s: a.published_at for s, a in grouping.started.items()}
    )
    assigned.update(grouping.assignments)
    by_story: dict[str, list[int]] = {}
    for article in articles:
        by_story.setdefault(assigned[article.id], []).append(index[article.id])
    published = memory.published_in(list(by_story))
    stories, centroids = [], []
    for story_id, rows in sorted(by_story.items()):
        is_update = published.get(story_id, this_issue) != this_issue
        story, centroid = make_story(
            story_id, [articles[r] for r in rows], vectors[rows], is_update
        )
        stories.append(story)
        centroids.append(centroid)
    return stories, np.vstack(centroids)


def compare_weeks(
    themes: Sequence[Theme],
    centroids: Mapping[str, np.ndarray],
    history: ThemeHistory,
    week: str,
    last_week: str,
) -> tuple[Theme, ...]:
    """The themes marked new, continuing, rising or fading against `last_week`'s, and kept
    as `week`'s for the next week to compare with."""
    past = [PastTheme(i, n, c, v) for i, n, c, v in history.week_themes(last_week)]
    marked = mark_trends(themes, centroids, past)
    history.save_week_themes(
        week, [(t.id, t.name, len(t.stories), centroids[t.id]) for t in marked]
    )
    return marked
