"""`digest cluster`: a JSONL file of items grouped into stories and themes, without a store."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from digest.analyze import MemoryCache, VectorCache, make_embedder
from digest.analyze.cluster import Assignment, cluster_articles
from digest.config import AnalyzeSettings
from digest.models import Article
from digest.store import Store


def cluster_items(
    articles: Sequence[Article],
    cache: Path | None,
    model: str,
    backend: str,
    threshold: float | None,
) -> list[Assignment]:
    """Each item's story and theme with the shipped [analyze] defaults (and `threshold` for
    stories when given); vectors are kept in the SQLite file `cache` between runs."""
    settings = AnalyzeSettings()
    if threshold is not None:
        settings = settings.model_copy(update={"story_threshold": threshold})
    store = Store(f"sqlite:///{cache}") if cache else None
    vectors: VectorCache = store or MemoryCache()
    try:
        return cluster_articles(articles, make_embedder(model, backend), vectors, settings)
    finally:
        if store:
            store.close()
