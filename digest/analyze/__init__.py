"""The analyze stage: a week's articles become ranked stories and named themes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import numpy as np

from digest.analyze.rank import story_score, theme_score
from digest.analyze.themes import UNASSIGNED, cluster_stories, theme_keywords, theme_name
from digest.models import Article, Story, Theme

MIN_HEADLINE_WORDS = 5


@dataclass(frozen=True)
class WeekAnalysis:
    """Themes in reading order, the stories that fit none (for quick hits), and papers."""

    themes: tuple[Theme, ...]
    unthemed: tuple[Story, ...]
    scores: Mapping[str, float]
    papers: tuple[Story, ...] = ()


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def make_story(
    story_id: str, articles: Sequence[Article], vectors: np.ndarray, is_update: bool
) -> tuple[Story, np.ndarray]:
    """A story titled by its most central article with a telling title, and its unit centroid."""
    centroid = _unit(vectors.mean(axis=0))
    closeness = vectors @ centroid
    # A bare name ("DeepSeek-R3") makes a poor headline when another source wrote a sentence.
    telling = np.array([len(a.title.split()) >= MIN_HEADLINE_WORDS for a in articles])
    central = int(np.argmax(np.where(telling, closeness, closeness - 2.0)))
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id))
    return Story(story_id, articles[central].title, tuple(ordered), is_update), centroid


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "theme"


def build_themes(
    stories: Sequence[Story],
    vectors: np.ndarray,
    weights: Mapping[str, float],
    week_end: datetime,
    min_theme_size: int,
    max_themes: int,
) -> WeekAnalysis:
    """Cluster the week's stories into themes, name them, and rank both."""
    scores = {s.id: story_score(s, weights, week_end) for s in stories}
    labels = cluster_stories(vectors, min_theme_size)
    groups: dict[int, list[Story]] = {}
    for story, label in zip(stories, labels, strict=True):
        groups.setdefault(int(label), []).append(story)
    clustered = sorted((label, members) for label, members in groups.items() if label != UNASSIGNED)
    documents = [" ".join(a.text for s in members for a in s.articles) for _, members in clustered]
    keywords = theme_keywords(documents)
    themes: list[Theme] = []
    used_ids: set[str] = set()
    for (_, members), words, document in zip(clustered, keywords, documents, strict=True):
        name = theme_name(words, document)
        theme_id = base = _slug(name)
        n = 2
        while theme_id in used_ids:
            theme_id, n = f"{base}-{n}", n + 1
        used_ids.add(theme_id)
        ranked = tuple(sorted(members, key=lambda s: -scores[s.id]))
        themes.append(Theme(theme_id, name, tuple(words), ranked))
    themes.sort(key=lambda t: -theme_score(t, scores))
    leftover = [s for s in groups.get(UNASSIGNED, [])]
    for theme in themes[max_themes:]:
        leftover.extend(theme.stories)
    unthemed = tuple(sorted(leftover, key=lambda s: -scores[s.id]))
    papers = tuple(sorted((s for s in stories if is_paper(s)), key=lambda s: -scores[s.id]))
    return WeekAnalysis(tuple(themes[:max_themes]), unthemed, scores, papers)


def is_paper(story: Story) -> bool:
    """A research paper: an article on arxiv.org, or from a source named for arXiv."""
    return any(
        urlsplit(a.url).hostname in ("arxiv.org", "www.arxiv.org") or "arxiv" in a.source.lower()
        for a in story.articles
    )
