"""Real-week story grouping: the dev split's same-event labels, grouped as users' runs do."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from digest.analyze.cluster import cluster_articles
from digest.analyze.embed import SentenceTransformerEmbedder, embed_articles
from digest.analyze.evaluate import bcubed, grouped_in_runs, pairwise
from digest.analyze.items import article_from_item
from digest.config import AnalyzeSettings
from digest.models import Article
from digest.store import Store

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
# Measured with the shipped defaults (docs/stories.md); the goals are pairwise
# recall 0.85 at precision 0.95. Today: batch BCubed F1 0.972, pairs P 0.966, R 0.851; fed
# day by day 0.969, 0.955, 0.851. These floors sit just below.
BCUBED_FLOOR = 0.965
PAIR_PRECISION_FLOOR = 0.96
PAIR_RECALL_FLOOR = 0.845
RUNS_PAIR_PRECISION_FLOOR = 0.95
RUNS_PAIR_RECALL_FLOOR = 0.845


def _dev(shared_data: Path) -> tuple[list[Article], dict[str, str | None]]:
    folder = shared_data / "ai_news_multisource_2025-07"
    if not (folder / "events.dev.jsonl").is_file():
        pytest.skip(f"dev same-event labels not found at {folder / 'events.dev.jsonl'}")
    rows = [json.loads(line) for line in (folder / "items.dev.jsonl").read_text().splitlines()]
    articles = [
        article_from_item(
            {
                "id": r["item_id"],
                "title": r["title"],
                "text": r.get("text") or "",
                "url": r.get("url") or r.get("permalink") or "",
                "published_at": r["published_at"],
                "source": r["source"],
            },
            "dev",
        )
        for r in rows
    ]
    labels = [json.loads(line) for line in (folder / "events.dev.jsonl").read_text().splitlines()]
    return articles, {row["item_id"]: row["event"] for row in labels}


def _singletons(gold: dict[str, str | None]) -> dict[str, str]:
    return {item: event or f"alone:{item}" for item, event in gold.items()}


def test_dev_events_are_held_together_and_kept_apart(shared_data: Path) -> None:
    """`digest cluster`'s grouping (shipped defaults) of the 1,887 dev items: a week's launch
    is one story ("Kimi K2 is funny", "moonshotai/Kimi-K2-Instruct", "Kimi K2 q4km is here"),
    and neighbouring events stay apart."""
    articles, gold = _dev(shared_data)
    store = Store(f"sqlite:///{ROOT / '.cache' / 'vectors.db'}")
    try:
        result = cluster_articles(articles, SentenceTransformerEmbedder(), store, AnalyzeSettings())
    finally:
        store.close()
    story = {a.id: a.story for a in result}
    score, pairs = bcubed(story, _singletons(gold)), pairwise(story, gold)
    assert score.f1 >= BCUBED_FLOOR, f"dev BCubed F1 {score.f1:.3f} < {BCUBED_FLOOR}"
    assert pairs.precision >= PAIR_PRECISION_FLOOR, f"pairwise precision {pairs.precision:.3f}"
    assert pairs.recall >= PAIR_RECALL_FLOOR, f"pairwise recall {pairs.recall:.3f}"
    kimi = {story[i] for i, event in gold.items() if event == "kimi-k2-release"}
    assert len(kimi) <= 2, "Kimi K2's release is split into more than two stories"
    grok = {story[i] for i, event in gold.items() if event == "grok-4-release"}
    # One of its seven reports (a benchmark post in the evening) is a story of its own since
    # "grok", a plain word, needs a one-day burst to anchor (digest.analyze.anchors).
    assert len(grok) <= 2, "Grok 4's launch day is split into more than two stories"


def test_dev_events_hold_when_crawled_day_by_day(shared_data: Path) -> None:
    """The same items fed day by day, each run grouping what is new against the stored
    stories (kept whole, ids stable), as the pipeline does for a crawler on a schedule
    (bench/eval_stories.py feeds them every 8 hours: slower, about the same figures)."""
    articles, gold = _dev(shared_data)
    store = Store(f"sqlite:///{ROOT / '.cache' / 'vectors.db'}")
    try:
        vectors = embed_articles(articles, SentenceTransformerEmbedder(), store)
    finally:
        store.close()
    defaults = AnalyzeSettings()
    story = grouped_in_runs(
        articles,
        np.asarray(vectors),
        defaults.story_threshold,
        timedelta(days=defaults.story_window_days),
        timedelta(days=1),
    )
    score, pairs = bcubed(story, _singletons(gold)), pairwise(story, gold)
    assert score.f1 >= BCUBED_FLOOR, f"dev BCubed F1 {score.f1:.3f} < {BCUBED_FLOOR}"
    assert pairs.precision >= RUNS_PAIR_PRECISION_FLOOR, f"pairwise P {pairs.precision:.3f}"
    assert pairs.recall >= RUNS_PAIR_RECALL_FLOOR, f"pairwise recall {pairs.recall:.3f}"
