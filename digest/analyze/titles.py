"""A story made from its articles: titled by its most central telling title, with its centroid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digest.models import Article, Story

MIN_HEADLINE_WORDS = 5


def unit_vector(v: np.ndarray) -> np.ndarray:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def make_story(
    story_id: str, articles: Sequence[Article], vectors: np.ndarray, is_update: bool
) -> tuple[Story, np.ndarray]:
    """A story titled by its most central article with a telling title, and its unit centroid."""
    centroid = unit_vector(vectors.mean(axis=0))
    closeness = vectors @ centroid
    # A bare name ("DeepSeek-R3") makes a poor headline when another source wrote a sentence.
    telling = np.array([len(a.title.split()) >= MIN_HEADLINE_WORDS for a in articles])
    central = int(np.argmax(np.where(telling, closeness, closeness - 2.0)))
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id))
    return Story(story_id, articles[central].title, tuple(ordered), is_update), centroid
