"""Articles parsed in a worker travel packed, and read back as the articles parsed."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from digest.crawl.packed import PackedArticles
from digest.models import Article


def _article(n: int) -> Article:
    when = datetime(2025, 7, 7, n, tzinfo=UTC)
    return Article(f"id{n}", f"https://a.example/{n}", f"Title {n}", "s", "src", when, f"h{n}")


def test_packed_articles_read_back_as_parsed_and_travel_as_their_blob() -> None:
    articles = tuple(_article(n) for n in range(3))
    packed = PackedArticles.pack(articles)
    assert len(packed) == 3
    assert packed == articles and list(packed) == list(articles)
    assert packed[1] == articles[1] and tuple(packed[1:]) == articles[1:]
    sent = pickle.dumps(packed)
    assert len(sent) < len(pickle.dumps(articles)) + 100  # the blob, not the blob pickled again
    assert pickle.loads(sent) == articles


def test_a_blob_that_holds_no_articles_is_refused() -> None:
    packed = PackedArticles(pickle.dumps(["not", "articles"]), 2)
    with pytest.raises(TypeError, match="holds list"):
        list(packed)
