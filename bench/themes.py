"""Theme clustering measured: how far a theme must hold together (THEME_COHESION) before
HDBSCAN's leaf is split. Theme BCubed P/R/F1 on the sample week's gold themes; on UCI News,
theme purity against the headline category (business, tech, entertainment, health: a theme
should not mix them; recall means nothing against four coarse classes); on six weeks of AI
news, how many themes and how many stories left for quick hits.

Run by hand: .venv/bin/python bench/themes.py
Stories come from the shipped grouping; UCI timestamps are dropped (they leak the labels).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from corpora import CACHE, UCI, ai_news, sample_week, uci

from digest.analyze import themes
from digest.analyze.embed import embed_articles, make_embedder
from digest.analyze.evaluate import bcubed
from digest.analyze.items import article_from_item
from digest.analyze.stories import group_stories
from digest.models import Article
from digest.store import Store

# -1: no split (every theme holds together at cosine -1).
COHESIONS = (-1.0, 0.15, 0.2, 0.25, 0.3, 0.33, 0.35, 0.4, 0.45, 0.5)
MIN_SIZE = 3


class Corpus:
    """A corpus's stories: the article rows of each and its unit centroid."""

    def __init__(self, articles: Sequence[Article], vectors: np.ndarray) -> None:
        grouping = group_stories(articles, vectors, [], 0.62, timedelta(days=14))
        rows: dict[str, list[int]] = {}
        for i, article in enumerate(articles):
            rows.setdefault(grouping.assignments[article.id], []).append(i)
        self.articles, self.rows = articles, list(rows.values())
        centroids = np.vstack([vectors[r].mean(axis=0) for r in self.rows])
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def themes(self) -> dict[str, str]:
        """Each article's theme (or its own story's id when its story has none)."""
        labels = themes.cluster_stories(self.centroids, MIN_SIZE)
        return {
            self.articles[i].id: f"theme {label}" if label != themes.UNASSIGNED else f"story {s}"
            for s, (rows, label) in enumerate(zip(self.rows, labels.tolist(), strict=True))
            for i in rows
        }


def load(items: list[dict[str, Any]], store: Store) -> Corpus:
    articles = [article_from_item(item, "bench") for item in items]
    return Corpus(articles, embed_articles(articles, make_embedder(), store))


def main() -> None:
    store = Store(f"sqlite:///{CACHE}")
    try:
        week_items, _, week_themes = sample_week()
        week = load(week_items, store)
        categories = {
            str(row["id"]): row["category"]
            for row in map(json.loads, (UCI / "articles.dev.jsonl").read_text().splitlines())
        }
        news = load([{**i, "published_at": None} for i in uci("dev")[0]], store)
        ai = load(ai_news()[0], store)
    finally:
        store.close()
    figures: dict[str, Any] = {}
    for cohesion in COHESIONS:
        themes.THEME_COHESION = cohesion
        w = bcubed({k: v for k, v in week.themes().items() if k in week_themes}, week_themes)
        u = bcubed(news.themes(), categories)
        ai_labels = ai.themes()
        count = len({v for v in ai_labels.values() if v.startswith("theme")})
        quick = sum(v.startswith("story") for v in set(ai_labels.values())) / len(ai.rows)
        print(
            f"cohesion {cohesion:5.2f}  week themes P {w.precision:.3f} R {w.recall:.3f} "
            f"F1 {w.f1:.3f}   UCI dev purity {u.precision:.3f}   "
            f"AI news {count} themes, {quick:.0%} of stories unthemed"
        )
        figures[str(cohesion)] = {
            "week_f1": round(w.f1, 4),
            "week_p": round(w.precision, 4),
            "uci_dev_purity": round(u.precision, 4),
            "ai_themes": count,
        }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
