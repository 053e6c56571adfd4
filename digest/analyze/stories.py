"""Same-event grouping: each new article joins a recent story or starts one, with a stable id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from digest.models import Article

# Tokens that pin an event down: model names with versions, sizes, money, percentages.
_SPECIFIC = re.compile(
    r"\b(?=[\w.$%-]*\d)[A-Za-z$][\w.$%-]*\d[\w.%-]*|\$?\d[\d.,]*\s?(?:%|[BMK]\b)"
)
SPECIFIC_BONUS = 0.06
SPECIFIC_PENALTY = 0.08


def specific_tokens(text: str) -> frozenset[str]:
    """Tokens like 'Qwen3.5-Coder-480B', 'GPT-5', 'H200' or '40%' that tell events apart."""
    return frozenset(t.lower().strip(".,-") for t in _SPECIFIC.findall(text))


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
    """Assign each new article, oldest first, to the best matching story within `window`.

    `known` holds the stories already in the store: (story id, its articles, their vectors).
    Every member of a story counts: an article joins when it is close to any of them.
    """
    members: list[Article] = [a for _, arts, _ in known for a in arts]
    member_story: list[str] = [sid for sid, arts, _ in known for _ in arts]
    dim = new_vectors.shape[1]
    capacity = len(members) + len(new)
    matrix = np.zeros((capacity, dim), dtype=np.float32)
    times = np.zeros(capacity, dtype=np.float64)
    if members:
        matrix[: len(members)] = np.vstack([vecs for _, _, vecs in known])
        times[: len(members)] = [a.published_at.timestamp() for a in members]
    tokens = [specific_tokens(a.text) for a in members]
    count = len(members)

    assignments: dict[str, str] = {}
    started: dict[str, Article] = {}
    order = sorted(range(len(new)), key=lambda i: (new[i].published_at, new[i].id))
    for i in order:
        article, vector = new[i], new_vectors[i]
        mine = specific_tokens(article.text)
        sims = matrix[:count] @ vector
        near = np.abs(times[:count] - article.published_at.timestamp()) <= window.total_seconds()
        best_story, best_score = "", threshold
        for row in np.flatnonzero(near & (sims >= threshold - SPECIFIC_BONUS)):
            score = float(sims[row])
            if mine and tokens[row]:
                score += SPECIFIC_BONUS if mine & tokens[row] else -SPECIFIC_PENALTY
            if score >= best_score:
                best_story, best_score = member_story[row], score
        if not best_story:
            best_story = story_id_for(article)
            started[best_story] = article
        matrix[count], times[count] = vector, article.published_at.timestamp()
        members.append(article)
        member_story.append(best_story)
        tokens.append(mine)
        count += 1
        assignments[article.id] = best_story
    return Grouping(assignments, started)
