"""Measure the support threshold of grounding: supported vs unsupported sentences, two data sets.

Supported: a sentence from one outlet's article, checked against another outlet's article of
the same story (the same event told in other words: what a faithful paraphrase looks like).
Unsupported: the same sentence checked against an article of a different story of the same
theme (or category): on topic, but not saying it. The best threshold separates the two.

    .venv/bin/python bench/grounding_threshold.py
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digest.analyze.embed import SentenceTransformerEmbedder
from digest.crawl.http import Fetched
from digest.crawl.rss import parse_feed
from digest.crawl.sources import load_sources
from digest.models import Article
from digest.urls import article_id
from digest.write.grounding import SUPPORT_THRESHOLD, Grounder
from digest.write.sentences import quotable, split_sentences

ROOT = Path(__file__).resolve().parents[1]
WEEK = ROOT / "examples" / "sample-week"
UCI = ROOT.parent / "shared" / "data" / "story_clusters_uci_news_2014-03" / "articles.jsonl"
Pair = tuple[str, list[Article], bool]


def sample_week_articles() -> tuple[dict[str, Article], dict[str, str], dict[str, str]]:
    """Articles of the sample week by id, with their gold story and theme."""
    articles: dict[str, Article] = {}
    for source in load_sources(WEEK / "sources.yaml", base="http://127.0.0.1"):
        path = WEEK / "feeds" / source.url.rsplit("/", 1)[1]
        fetched = Fetched(source.url, "application/xml", path.read_bytes(), datetime.now(UTC))
        articles.update((a.id, a) for a in parse_feed(fetched, source))
    expected = yaml.safe_load((WEEK / "expected.yaml").read_text())
    story, theme = {}, {}
    for t in expected["themes"]:
        for s in t["stories"]:
            for link in s["links"]:
                story[article_id(link)] = s["id"]
                theme[article_id(link)] = t["name"]
    return articles, story, theme


def sample_week_pairs(rng: random.Random) -> list[Pair]:
    articles, story, theme = sample_week_articles()
    by_story: dict[str, list[Article]] = defaultdict(list)
    for aid, sid in story.items():
        if aid in articles:
            by_story[sid].append(articles[aid])
    pairs: list[Pair] = []
    for sid, members in by_story.items():
        if len(members) < 2:
            continue
        same_theme = [a for a in articles.values() if theme.get(a.id) == theme[members[0].id]]
        others = [a for a in same_theme if story.get(a.id) != sid]
        for writer_article in members:
            lines = [s for s in split_sentences(writer_article.summary) if quotable(s)]
            for line in lines[:2]:
                source = rng.choice([m for m in members if m.id != writer_article.id])
                pairs.append((line, [source], True))
                if others:
                    pairs.append((line, [rng.choice(others)], False))
    return pairs


def uci_pairs(rng: random.Random, limit: int = 300) -> list[Pair]:
    rows = [json.loads(line) for line in UCI.read_text().splitlines()]
    by_story: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_story[r["story_id"]].append(r)
    stories = [s for s in by_story.values() if len(s) >= 2]
    by_category: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_category[r["category"]].append(r)
    pairs: list[Pair] = []
    epoch = datetime(2014, 3, 10, tzinfo=UTC)

    def as_article(r: dict[str, str]) -> Article:
        return Article(str(r["id"]), r["url"], r["title"], "", r["publisher"], epoch, "")

    for _ in range(limit):
        story = rng.choice(stories)
        a, b = rng.sample(story, 2)
        near = [r for r in by_category[a["category"]] if r["story_id"] != a["story_id"]]
        other = rng.choice(near)
        pairs.append((a["title"], [as_article(b)], True))
        pairs.append((a["title"], [as_article(other)], False))
    return pairs


def evaluate(name: str, grounder: Grounder, pairs: list[Pair]) -> dict[str, float]:
    start = time.perf_counter()
    scores = np.array([grounder.support(text, sources) for text, sources, _ in pairs])
    labels = np.array([ok for _, _, ok in pairs])
    elapsed = time.perf_counter() - start
    pos, neg = scores[labels], scores[~labels]
    auc = float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
    grid = np.round(np.arange(0.30, 0.91, 0.01), 2)
    balanced = [((pos >= t).mean() + (neg < t).mean()) / 2 for t in grid]
    best = float(grid[int(np.argmax(balanced))])
    t = SUPPORT_THRESHOLD
    figures = {
        "pairs": len(pairs),
        "auc": round(auc, 3),
        "best_threshold": best,
        "best_balanced_accuracy": round(float(max(balanced)), 3),
        "threshold": t,
        "supported_kept": round(float((pos >= t).mean()), 3),
        "unsupported_dropped": round(float((neg < t).mean()), 3),
        "median_supported": round(float(np.median(pos)), 3),
        "median_unsupported": round(float(np.median(neg)), 3),
        "seconds": round(elapsed, 1),
    }
    print(f"{name}: {figures}")
    return figures


def main() -> None:
    rng = random.Random(47)
    grounder = Grounder(SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu").embed)
    results = {"sample_week": evaluate("sample week", grounder, sample_week_pairs(rng))}
    if UCI.is_file():
        results["uci_headlines"] = evaluate("UCI headlines", grounder, uci_pairs(rng))
    else:
        print(f"skipped UCI headlines: {UCI} not found", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
