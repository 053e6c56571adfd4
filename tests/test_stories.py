"""Story grouping: the same event joins one story, a near miss does not, ids never change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from digest.analyze.stories import group_stories, specific_tokens
from digest.models import Article


def art(n: int, title: str, hours: int = 0) -> Article:
    return Article(
        id=f"a{n}",
        url=f"https://example.com/{n}",
        title=title,
        summary="",
        source=f"S{n}",
        published_at=datetime(2026, 11, 17, tzinfo=UTC) + timedelta(hours=hours),
        content_hash=f"h{n}",
    )


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


WINDOW = timedelta(days=14)


def test_specific_tokens_tell_model_versions_apart() -> None:
    assert "qwen3.5-coder-480b" in specific_tokens("Alibaba ships Qwen3.5-Coder-480B today")
    assert specific_tokens("GPT-5 and H200 at 40%") >= {"gpt-5", "h200"}
    assert specific_tokens("A plain sentence with no versions") == frozenset()


def test_similar_articles_join_and_distant_ones_start_stories() -> None:
    articles = [
        art(1, "Lab releases model", 0),
        art(2, "Model released by lab", 1),
        art(3, "Chip export rules", 2),
    ]
    vectors = np.vstack([unit(1, 0.1, 0), unit(1, 0.15, 0), unit(0, 0, 1)])
    g = group_stories(articles, vectors, [], threshold=0.8, window=WINDOW)
    assert g.assignments["a1"] == g.assignments["a2"] == "s-a1"
    assert g.assignments["a3"] == "s-a3"
    assert set(g.started) == {"s-a1", "s-a3"}


def test_different_versions_do_not_merge_even_when_close() -> None:
    a = art(1, "Qwen3.5-Coder-480B released")
    b = art(2, "Qwen3.5-7B quantized builds released", 1)
    vectors = np.vstack([unit(1, 0.3, 0), unit(1, 0.42, 0)])  # cosine ~0.99
    strict = group_stories([a, b], vectors, [], threshold=0.93, window=WINDOW)
    assert strict.assignments["a1"] != strict.assignments["a2"]


def test_new_article_joins_stored_story_and_keeps_its_id() -> None:
    old = art(1, "Lab releases model", -48)
    new = art(2, "Model released by lab", 0)
    known = [("s-a1", [old], np.vstack([unit(1, 0.1, 0)]))]
    g = group_stories([new], np.vstack([unit(1, 0.12, 0)]), known, threshold=0.8, window=WINDOW)
    assert g.assignments == {"a2": "s-a1"} and g.started == {}


def test_stories_older_than_the_window_are_not_joined() -> None:
    old = art(1, "Lab releases model", -24 * 30)
    known = [("s-a1", [old], np.vstack([unit(1, 0, 0)]))]
    g = group_stories(
        [art(2, "Lab releases model")],
        np.vstack([unit(1, 0, 0)]),
        known,
        threshold=0.8,
        window=WINDOW,
    )
    assert g.assignments == {"a2": "s-a2"}
