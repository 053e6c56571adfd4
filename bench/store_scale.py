"""Stories and themes of a 100,000-article week through the store, PostgreSQL against SQLite.

    python bench/store_scale.py --store postgresql+psycopg://user@host/db [--articles 100000]

Articles and their vectors are synthetic (bench/analyze.py: events told by 1-6 sources, unit
vectors around event and theme directions), so the figures are the store and the analyze
stage, not embedding (the model's speed is in BENCHMARKS.md). Each store runs: insert the week,
analyze it (vectors written to the store's cache, stories assigned, themes made and kept), then
analyze it again (vectors and stories read back). A SQLite file in a temp dir is the baseline,
measured in the same run. The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze import synthetic

from digest import pipeline
from digest.analyze.embed import embedding_text
from digest.config import Settings, StoreSettings
from digest.models import Article
from digest.store import Store

MONDAY = date(2026, 11, 16)


class Precomputed:
    """An embedder that answers with the synthetic vectors (each text is embedded once)."""

    name = "synthetic"

    def __init__(self, articles: Sequence[Article], vectors: np.ndarray) -> None:
        self._by_text = {embedding_text(a): v for a, v in zip(articles, vectors, strict=True)}
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.vstack([self._by_text[t] for t in texts])


def one_store(url: str, articles: list[Article], vectors: np.ndarray) -> dict[str, float]:
    figures: dict[str, float] = {}
    settings = Settings(store=StoreSettings(url=url))
    store = Store(url)
    t = time.perf_counter()
    new = store.add_articles(articles, datetime.now(UTC))
    figures["insert_s"] = time.perf_counter() - t
    embedder = Precomputed(articles, vectors)
    for run in ("first", "again"):
        t = time.perf_counter()
        analysis = pipeline.analyze(store, embedder, MONDAY, settings, {})
        figures[f"analyze_{run}_s"] = time.perf_counter() - t
        figures[f"themes_{run}"] = len(analysis.themes)
        figures[f"stories_{run}"] = len(analysis.unthemed) + sum(
            len(x.stories) for x in analysis.themes
        )
    figures["new_articles"] = new
    figures["embedded"] = embedder.calls  # the second run embeds nothing: all from the store
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="PostgreSQL URL of an empty database")
    parser.add_argument("--articles", type=int, default=100_000)
    args = parser.parse_args()
    articles, vectors = synthetic(args.articles)
    figures: dict[str, float] = {"articles": len(articles)}
    sqlite_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='digest-scale-')) / 'digest.db'}"
    for label, url in (("postgresql", args.store), ("sqlite", sqlite_url)):
        for key, value in one_store(url, articles, vectors).items():
            figures[f"{label}_{key}"] = value
        figures[f"{label}_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{label}: insert {figures[f'{label}_insert_s']:.1f} s, analyze "
            f"{figures[f'{label}_analyze_first_s']:.1f} s, again "
            f"{figures[f'{label}_analyze_again_s']:.1f} s; "
            f"{figures[f'{label}_stories_first']:.0f} stories, "
            f"{figures[f'{label}_themes_first']:.0f} themes",
            flush=True,
        )
    figures["analyze_ratio_pg_to_sqlite"] = (
        figures["postgresql_analyze_first_s"] / figures["sqlite_analyze_first_s"]
    )
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
