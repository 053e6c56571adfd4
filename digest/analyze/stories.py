"""Same-event grouping: new articles join a recent story or start one, with a stable id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from digest.analyze.density import adaptive_threshold, corpus_density, dense_cores
from digest.analyze.linkage import agglomerate, neighbour_pairs
from digest.models import Article
from digest.urls import canonical_url

# Tokens that pin an event down: model names with versions, sizes, money, percentages.
_SPECIFIC = re.compile(
    r"\b(?=[\w.$%-]*\d)[A-Za-z$][\w.$%-]*\d[\w.%-]*|\$?\d[\d.,]*\s?(?:%|[BMK]\b)"
)
SPECIFIC_BONUS = 0.06
SPECIFIC_PENALTY = 0.08
# Candidate pairs are looked for this far below the threshold (a shared token may lift them).
CANDIDATE_MARGIN = 0.1
# Discussion pages (a thread *about* a link) are not the link; their URLs say nothing.
_DISCUSSION_HOSTS = ("news.ycombinator.com", "reddit.com/r/", "lobste.rs/s/")


def specific_tokens(text: str) -> frozenset[str]:
    """Tokens like 'Qwen3.5-Coder-480B', 'GPT-5', 'H200' or '40%' that tell events apart."""
    return frozenset(t.lower().strip(".,-") for t in _SPECIFIC.findall(text))


def token_adjustment(a: frozenset[str], b: frozenset[str]) -> float:
    """A shared specific token lifts the link; two disjoint sets of them lower it."""
    if not a or not b:
        return 0.0
    return SPECIFIC_BONUS if a & b else -SPECIFIC_PENALTY


def url_key(url: str) -> str:
    """The page an article links, as two reports of it write it: its canonical URL (https,
    bare host, no tracking parameters or fragment; query parameters that name the page, as
    in `article.aspx?id=1`, are kept). Empty for a discussion page or a missing URL."""
    if not url or any(host in url for host in _DISCUSSION_HOSTS):
        return ""
    try:
        return canonical_url(url)
    except ValueError:
        return ""


def story_id_for(first: Article) -> str:
    """A story is named after the article that started it, so its id never changes."""
    return f"s-{first.id}"


@dataclass(frozen=True)
class Grouping:
    """Where each new article went, and which stories it started."""

    assignments: dict[str, str]
    started: dict[str, Article]


def group_stories(
    new: Sequence[Article],
    new_vectors: np.ndarray,
    known: Sequence[tuple[str, Sequence[Article], np.ndarray]],
    threshold: float,
    window: timedelta,
) -> Grouping:
    """Group new articles into stories: the known ones (kept whole) or new ones.

    `known` holds the stories already in the store: (story id, its articles, their vectors).
    Articles linking the same page go together first; then clusters merge, best pair first,
    while their mean cosine, adjusted for shared or clashing specific tokens, reaches
    `threshold` and their articles are within `window` of each other. In a dense corpus the
    threshold is lower and new articles start from communities of their neighbour graph (see
    digest.analyze.density). Two stored stories are never merged, and a stored article never
    moves, so ids stay stable across runs and weeks.
    """
    old = [a for _, arts, _ in known for a in arts]
    articles = [*old, *new]
    if not new:
        return Grouping({}, {})
    vectors = np.vstack([*(v for _, _, v in known), new_vectors]).astype(np.float32)
    times = np.array([a.published_at.timestamp() for a in articles], dtype=np.float64)
    tokens = [specific_tokens(f"{a.title} {a.summary}") for a in articles]
    initial = _initial_clusters(known, articles, len(old))
    seconds = window.total_seconds()
    density = corpus_density(vectors, times, seconds)
    threshold = adaptive_threshold(threshold, density)
    pairs = neighbour_pairs(vectors, times, threshold - SPECIFIC_BONUS - CANDIDATE_MARGIN, seconds)
    free = [members for members, story in initial if story is None]
    initial = [(m, s) for m, s in initial if s is not None] + [
        (members, None) for members in dense_cores(vectors, pairs, free, density)
    ]
    clusters = agglomerate(
        vectors,
        pairs,
        threshold,
        tokens,
        token_adjustment,
        initial=[members for members, _ in initial],
        frozen=[story is not None for _, story in initial],
    )
    story_of_old = {i: sid for (members, sid) in initial if sid for i in members}
    assignments: dict[str, str] = {}
    started: dict[str, Article] = {}
    for members in clusters:
        story = next((story_of_old[i] for i in members if i in story_of_old), None)
        fresh = [articles[i] for i in members if i >= len(old)]
        if not fresh:
            continue
        if story is None:
            first = min(fresh, key=lambda a: (a.published_at, a.id))
            story = story_id_for(first)
            started[story] = first
        for article in fresh:
            assignments[article.id] = story
    return Grouping(assignments, started)


def _initial_clusters(
    known: Sequence[tuple[str, Sequence[Article], np.ndarray]],
    articles: Sequence[Article],
    old: int,
) -> list[tuple[list[int], str | None]]:
    """Stored stories, each with the new articles that link one of its pages, then groups of
    new articles that link the same page."""
    clusters: list[tuple[list[int], str | None]] = []
    page: dict[str, int] = {}
    start = 0
    for story_id, arts, _ in known:
        members = list(range(start, start + len(arts)))
        start += len(arts)
        for i in members:
            page.setdefault(url_key(articles[i].url), len(clusters))
        clusters.append((members, story_id))
    page.pop("", None)
    for i in range(old, len(articles)):
        key = url_key(articles[i].url)
        if key and key in page:
            clusters[page[key]][0].append(i)
        else:
            if key:
                page[key] = len(clusters)
            clusters.append(([i], None))
    return clusters
