"""Evaluation corpora from ../shared/data as `digest cluster` items, with their gold labels."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Measure the checkout this file sits in, not the one the venv's `digest` was installed from.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
UCI = SHARED / "story_clusters_uci_news_2014-03"
AI_NEWS = SHARED / "ai_news_multisource_2025-07"
CACHE = ROOT / ".cache" / "vectors.db"


def url_words(url: str) -> str:
    """The words of a URL's path ('/2014/03/10/fed-holds-rates.html' -> 'fed holds rates html')."""
    return " ".join(re.findall(r"[A-Za-z]{3,}", url.split("//", 1)[-1].partition("/")[2]))


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise SystemExit(f"{path} not found: the shared evaluation data must sit beside the repo")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def uci(split: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """UCI News Aggregator headlines of one split ('dev' or 'test') and their story ids."""
    rows = _lines(UCI / f"articles.{split}.jsonl")
    items = [
        {
            "id": str(r["id"]),
            "title": r["title"],
            "text": "",
            "url": r["url"],
            "published_at": r["published_at"],
            "source": r["publisher"],
        }
        for r in rows
    ]
    return items, {str(r["id"]): r["story_id"] for r in rows}


def ai_news() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The in-window multi-source AI news items, and the exact-URL duplicate groups as gold
    (only the grouped items are labelled; BCubed ignores the rest)."""
    rows = [r for r in _lines(AI_NEWS / "items.jsonl") if r["split"] in ("dev", "test")]
    items = [
        {
            "id": r["item_id"],
            "title": r["title"],
            "text": r.get("text") or "",
            "url": r.get("url") or "",
            "published_at": r["published_at"],
            "source": r["source"],
        }
        for r in rows
    ]
    gold = {
        item: group["url_norm"]
        for group in _lines(AI_NEWS / "url_duplicate_groups.jsonl")
        for item in group["item_ids"]
    }
    return items, gold


def ai_news_dev_events() -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """The dev split's items (to 2025-07-21) and their same-event labels (`None`: a judged
    singleton; items without a label are not judged)."""
    rows = _lines(AI_NEWS / "items.dev.jsonl")
    items = [
        {
            "id": r["item_id"],
            "title": r["title"],
            "text": r.get("text") or "",
            "url": r.get("url") or r.get("permalink") or "",
            "published_at": r["published_at"],
            "source": r["source"],
        }
        for r in rows
    ]
    gold = {r["item_id"]: r["event"] for r in _lines(AI_NEWS / "events.dev.jsonl")}
    return items, gold


def sample_week() -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str]]:
    """The shipped sample week crawled from 127.0.0.1: items, gold stories and gold themes
    (articles of the week only; the ground truth is examples/sample-week/expected.yaml)."""
    import tempfile
    from datetime import timedelta

    import yaml

    from digest import pipeline
    from digest.cli import setup as demo
    from digest.crawl.sources import load_sources
    from digest.store import Store
    from digest.urls import article_id

    folder = ROOT / "examples" / "sample-week"
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        settings = demo.demo_settings(Path(tmp))
        store = Store(settings.store.url)
        with demo.serve(folder) as base:
            sources = load_sources(folder / "sources.yaml", base=base)
            pipeline.crawl(sources, store, pipeline.fetch_policy(settings))
        monday = pipeline.parse_week(expected["week"])
        articles = store.articles_between(monday, monday + timedelta(days=7))
        store.close()
    stories, themes = {}, {}
    for theme in expected["themes"]:
        for story in theme["stories"]:
            for link in story["links"]:
                stories[article_id(link)] = story["id"]
                themes[article_id(link)] = theme["name"]
    items = [
        {
            "id": a.id,
            "title": a.title,
            "text": a.summary,
            "url": a.url,
            "published_at": a.published_at.isoformat(),
            "source": a.source,
        }
        for a in articles
    ]
    return items, stories, themes
