"""The SQLite store keeps each article once and survives reopening."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from digest.models import Article
from digest.store import Store


def article(n: int, url: str | None = None, day: int = 17) -> Article:
    return Article(
        id=f"id{n}",
        url=url or f"https://example.com/post/{n}",
        title=f"Title {n}",
        summary=f"Summary {n}.",
        source="Example",
        published_at=datetime(2026, 11, day, 9, tzinfo=UTC),
        content_hash=f"hash{n}",
    )


def test_second_store_of_same_articles_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = Store(url)
    now = datetime.now(UTC)
    assert store.add_articles([article(1), article(2)], now) == 2
    assert store.add_articles([article(1), article(2)], now) == 0
    store.close()
    reopened = Store(url)
    assert reopened.add_articles([article(2), article(3)], now) == 1
    assert reopened.count_articles() == 3


def test_same_url_under_another_id_is_not_stored_twice(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    now = datetime.now(UTC)
    store.add_articles([article(1)], now)
    assert store.add_articles([article(9, url="https://example.com/post/1")], now) == 0


def test_week_query_returns_aware_datetimes_in_range(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    store.add_articles(
        [article(1, day=15), article(2, day=16), article(3, day=22)], datetime.now(UTC)
    )
    week = store.articles_between(date(2026, 11, 16), date(2026, 11, 23))
    assert [a.id for a in week] == ["id2", "id3"]
    assert all(a.published_at.tzinfo is not None for a in week)


def test_vectors_are_cached_per_model_and_content(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    v = np.arange(4, dtype=np.float32)
    store.save_vectors("m", {"h1": v})
    store.save_vectors("m", {"h1": v * 2})  # a second save never overwrites
    assert np.array_equal(store.vectors("m", ["h1", "h2"])["h1"], v)
    assert store.vectors("other", ["h1"]) == {}
