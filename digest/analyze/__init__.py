"""The analyze stage: a week's articles become ranked stories and named themes.

The names in __all__ are its public face: what the pipeline and the CLI use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from digest.analyze.embed import (
    EMBEDDERS,
    Embedder,
    MemoryCache,
    VectorCache,
    embed_articles,
    make_embedder,
)
from digest.analyze.events import event_name, event_section
from digest.analyze.memory import StoryMemory, ThemeHistory, compare_weeks, week_stories
from digest.analyze.rank import mmr_order, theme_score
from digest.analyze.select import engagement_ranks, select_stories, story_value
from digest.analyze.themes import UNASSIGNED, cluster_stories, theme_keywords, theme_name
from digest.analyze.titles import make_story, unit_vector
from digest.analyze.topics import TopicNamer, load_topics, slugify
from digest.models import Story, Theme

__all__ = [
    "EMBEDDERS",
    "Embedder",
    "MemoryCache",
    "StoryMemory",
    "ThemeHistory",
    "TopicNamer",
    "VectorCache",
    "WeekAnalysis",
    "build_themes",
    "compare_weeks",
    "embed_articles",
    "is_paper",
    "load_topics",
    "make_embedder",
    "make_story",
    "plan_issue",
    "week_stories",
]

# Stories an issue tells at most: its themes' stories, quick hits and papers together.
ISSUE_STORIES = 40
# Chosen stories a theme needs to be a section of the issue; fewer are told as quick hits.
MIN_TOLD_THEME = 2
# A theme is a section only when one of its stories is among the week's best this many.
SECTION_RANK = 20
# The week's best this many stories lead a section each when no theme tells them.
LEAD_STORIES = 3
LEAD_NAME = "Top story"  # a leading story's section when no topic fits it
_PAPER_LINK = re.compile(r"^https?://(www\.)?(arxiv\.org|openreview\.net|aclanthology\.org)/", re.I)


@dataclass(frozen=True)
class WeekAnalysis:
    """Themes in reading order, the stories that fit none (for quick hits), and the papers."""

    themes: tuple[Theme, ...]
    unthemed: tuple[Story, ...]
    scores: Mapping[str, float]
    papers: tuple[Story, ...] = ()
    centroids: Mapping[str, np.ndarray] = field(default_factory=dict)


def _no_texts(texts: Sequence[str]) -> np.ndarray:
    return np.zeros((len(texts), 1))


def is_paper(story: Story, paper_sources: frozenset[str]) -> bool:
    """A story about a paper: at least half its articles link arXiv (or a like venue) or come
    from a paper source. A model release that also links its technical report is a release."""
    papers = sum(1 for a in story.articles if _PAPER_LINK.match(a.url) or a.source in paper_sources)
    return papers > 0 and 2 * papers >= len(story.articles)


def build_themes(
    stories: Sequence[Story],
    vectors: np.ndarray,
    weights: Mapping[str, float],
    week_end: datetime,
    min_theme_size: int,
    max_themes: int,
    namer: TopicNamer | None = None,
) -> WeekAnalysis:
    """Cluster the week's stories into themes, name them, and rank them; the stories no kept
    theme holds come after, by score (`plan_issue` chooses among them what the issue tells).

    A theme is named after the closest of `namer`'s topics (each at most once), else after
    its most telling noun phrase; its id is the name's slug, the topic's slug for a topic.

    Themes are put in order by maximal marginal relevance over their centroids, so that two
    themes about nearly the same thing do not both lead the issue.
    """
    ranks = engagement_ranks([a for s in stories for a in s.articles])
    scores = {s.id: story_value(s, ranks, week_end, weights) for s in stories}
    row = {s.id: i for i, s in enumerate(stories)}
    labels = cluster_stories(
        vectors, min_theme_size, np.array([scores[s.id] for s in stories], dtype=np.float64)
    )
    groups: dict[int, list[Story]] = {}
    for story, label in zip(stories, labels, strict=True):
        groups.setdefault(int(label), []).append(story)
    clustered = sorted((label, members) for label, members in groups.items() if label != UNASSIGNED)
    documents = [" ".join(a.text for s in members for a in s.articles) for _, members in clustered]
    keywords = theme_keywords(documents)
    themes: list[Theme] = []
    centroids: dict[str, np.ndarray] = {}
    means = [unit_vector(vectors[[row[s.id] for s in m]].mean(axis=0)) for _, m in clustered]
    fallbacks = [theme_name(w, d) for w, d in zip(keywords, documents, strict=True)]
    named = (namer or TopicNamer([], _no_texts)).names(means, fallbacks)
    for (_, members), words, (name, slug), mean in zip(
        clustered, keywords, named, means, strict=True
    ):
        centroids[slug] = mean
        ranked = tuple(sorted(members, key=lambda s: -scores[s.id]))
        themes.append(Theme(slug, name, tuple(words), ranked, slug=slug))
    if themes:
        order = mmr_order(
            [theme_score(t, scores) for t in themes], np.vstack([centroids[t.id] for t in themes])
        )
        themes = [themes[i] for i in order]
    leftover = list(groups.get(UNASSIGNED, []))
    for theme in themes[max_themes:]:
        leftover.extend(theme.stories)
    unthemed = tuple(sorted(leftover, key=lambda s: -scores[s.id]))
    kept = themes[:max_themes]
    return WeekAnalysis(tuple(kept), unthemed, scores, (), {t.id: centroids[t.id] for t in kept})


def _topic_named(
    section: Theme, vector: np.ndarray, namer: TopicNamer | None, themes: Sequence[Theme]
) -> Theme:
    """The one-story section with no name of its own, named after its closest topic ("Image
    generation") unless a section has that name already, else after the launch its headline
    names ("ERNIE 4.5"), else LEAD_NAME; its slug unique."""
    story = section.stories[0]
    launch = event_name(story)
    fallback = launch if launch and launch.lower() in story.title.lower() else LEAD_NAME
    name, slug = namer.names([vector], [fallback])[0] if namer else (fallback, "")
    if name in {t.name for t in themes}:
        name, slug = fallback, ""
    taken = {t.slug or t.id for t in themes}
    base = slug = slug or slugify(name)
    n = 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return replace(section, id=slug, name=name, slug=slug)


def plan_issue(
    stories: Sequence[Story],
    vectors: np.ndarray,
    weights: Mapping[str, float],
    week_end: datetime,
    min_theme_size: int,
    max_themes: int,
    paper_sources: frozenset[str] = frozenset(),
    namer: TopicNamer | None = None,
    general_sources: frozenset[str] = frozenset(),
    published: Sequence[Story] = (),
    published_vectors: np.ndarray | None = None,
    limit: int = ISSUE_STORIES,
    before: Sequence[str] = (),
) -> WeekAnalysis:
    """What the issue tells: the week's `limit` best news stories (see
    digest.analyze.select), each in one place: papers in the research corner, the rest in
    themes or, when they fit none, as quick hits. A story that goes on with one an earlier
    issue `published` is told as an update of it; `before` are the titles of the days before
    the week (an old model's name joins no pieces of a launch)."""
    chosen = select_stories(
        stories,
        vectors,
        week_end,
        limit,
        weights,
        general_sources,
        published,
        published_vectors,
        before=before,
    )
    if not chosen.stories:
        return WeekAnalysis((), (), chosen.scores)
    papers = [s for s in chosen.stories if is_paper(s, paper_sources)]
    # Themes are found among all the week's stories (the density they form is the week's), so
    # that a few chosen stories of unlike subjects are not made one theme; each then holds
    # only the chosen stories it found.
    found = build_themes(
        stories,
        vectors,
        weights,
        week_end,
        min_theme_size,
        max_themes,
        namer=namer,
    )
    theme_of = {s.id: t.id for t in found.themes for s in t.stories}
    told: dict[str, list[Story]] = {}
    unthemed: list[Story] = []
    for story, row in zip(chosen.stories, chosen.rows, strict=True):
        if story in papers:
            continue
        if (theme := theme_of.get(stories[row].id)) is not None:
            told.setdefault(theme, []).append(story)
        else:
            unthemed.append(story)
    # Sections tell the week's biggest news: a theme none of whose stories is among the best
    # SECTION_RANK chosen gives them to the quick hits, where they go by score.
    rank = {s.id: n for n, s in enumerate(chosen.stories)}
    themes = []
    for t in found.themes:
        members = told.get(t.id, [])
        if len(members) >= MIN_TOLD_THEME and min(rank[m.id] for m in members) < SECTION_RANK:
            themes.append(replace(t, stories=tuple(members)))
        else:
            unthemed.extend(members)
    unthemed.sort(key=lambda s: rank[s.id])
    centroids = {t.id: found.centroids[t.id] for t in themes}
    # A launch the week talks about that found no theme leads a section named after it, as
    # does each of the week's LEAD_STORIES best stories that no section tells (papers, told
    # in the research corner, are not counted among them).
    row_of = {s.id: row for s, row in zip(chosen.stories, chosen.rows, strict=True)}
    leads = {s.id for s in [s for s in chosen.stories if s not in papers][:LEAD_STORIES]}
    for story in list(unthemed):
        section = event_section(story, lead=story.id in leads)
        if section is not None and not section.name:
            section = _topic_named(section, vectors[row_of[story.id]], namer, themes)
        if section is not None and section.id not in centroids:
            themes.append(section)
            centroids[section.id] = unit_vector(vectors[row_of[story.id]])
            unthemed.remove(story)
    # Sections lead with the biggest news they tell.
    themes.sort(key=lambda t: -max(chosen.scores[s.id] for s in t.stories))
    # Chosen stories are distinct events already: quick hits go by score, not by diversity.
    unthemed.sort(key=lambda s: -chosen.scores[s.id])
    return WeekAnalysis(
        tuple(themes),
        tuple(unthemed),
        chosen.scores,
        tuple(papers),
        centroids,
    )
