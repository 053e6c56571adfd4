"""Story clustering quality: `digest cluster` on the shared evaluation sets, BCubed P/R/F1.

Run by hand: .venv/bin/python bench/eval_stories.py [--threshold 0.72] [--backend onnx-int8]
    [--only ai_news_dev_events]
Vectors are cached in .cache/vectors.db, so only the first run embeds.
UCI timestamps are dropped: each UCI story is one block of crawl times (a label leak).
The AI-news dev split's same-event labels (events.dev.jsonl) are scored in one batch (`digest
cluster`) and fed every 8 hours as a crawler would (digest.analyze.evaluate.grouped_in_runs),
with pairwise precision (all judged items) and recall (same-event pairs) besides BCubed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from corpora import CACHE, ROOT, ai_news, ai_news_dev_events, sample_week, uci

from digest.analyze.embed import SentenceTransformerEmbedder, embed_articles
from digest.analyze.evaluate import bcubed, grouped_in_runs, pairwise
from digest.analyze.items import article_from_item
from digest.config import AnalyzeSettings
from digest.store import Store

# `python -m digest.cli` from the checkout's root: the `digest` script of a shared venv would
# import the package it was installed from, not this checkout's (a worktree measured main).
DIGEST = [sys.executable, "-m", "digest.cli"]


def run_cluster(
    items: list[dict[str, Any]], threshold: float | None, backend: str | None = None
) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "items.jsonl", Path(tmp) / "assignments.jsonl"
        source.write_text("".join(json.dumps(i) + "\n" for i in items))
        command = [*DIGEST, "cluster", "--input", str(source), "--output", str(out)]
        command += ["--cache", str(CACHE)]
        if threshold is not None:
            command += ["--threshold", str(threshold)]
        if backend is not None:
            command += ["--backend", backend]
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["id"]: r for r in rows}


def in_runs(items: list[dict[str, Any]], threshold: float | None) -> dict[str, str]:
    """Stories when the items come every 8 hours, grouped as the pipeline groups a run."""
    articles = [article_from_item(item, "dev") for item in items]
    store = Store(f"sqlite:///{CACHE}")
    try:
        vectors = embed_articles(articles, SentenceTransformerEmbedder(), store)
    finally:
        store.close()
    defaults = AnalyzeSettings()
    return grouped_in_runs(
        articles,
        np.asarray(vectors),
        defaults.story_threshold if threshold is None else threshold,
        timedelta(days=defaults.story_window_days),
        timedelta(hours=8),
    )


def dev_events(threshold: float | None, backend: str | None) -> dict[str, Any]:
    items, gold = ai_news_dev_events()
    alone = {k: v or f"alone:{k}" for k, v in gold.items()}
    figures: dict[str, Any] = {}
    for mode in ("batch", "every_8h"):
        start = time.perf_counter()
        if mode == "batch":
            story = {k: v["story"] for k, v in run_cluster(items, threshold, backend).items()}
        else:
            story = in_runs(items, threshold)
        seconds = time.perf_counter() - start
        b, p = bcubed(story, alone), pairwise(story, gold)
        print(
            f"ai_news_dev_events {mode:9s} P {b.precision:.3f}  R {b.recall:.3f}  F1 {b.f1:.3f}"
            f"  pairs P {p.precision:.3f}  R {p.recall:.3f}  ({seconds:.1f} s)"
        )
        figures[mode] = {
            "P": b.precision,
            "R": b.recall,
            "F1": b.f1,
            "pair_P": p.precision,
            "pair_R": p.recall,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=None, help="override the default")
    parser.add_argument("--backend", default=None, help="embedding backend (torch, onnx-int8)")
    parser.add_argument("--only", default=None, help="one set, e.g. ai_news_dev_events")
    args = parser.parse_args()
    figures: dict[str, Any] = {"threshold": args.threshold, "backend": args.backend}
    figures["ai_news_dev_events"] = dev_events(args.threshold, args.backend)
    if args.only == "ai_news_dev_events":
        print(json.dumps(figures, sort_keys=True))
        return
    sets = {
        "uci_dev": uci("dev"),
        "uci_test": uci("test"),
        "ai_news_url_groups": ai_news(),
    }
    week, week_stories, week_themes = sample_week()
    sets["sample_week"] = (week, week_stories)
    for name, (items, gold) in sets.items():
        if name.startswith("uci"):
            items = [{**i, "published_at": None} for i in items]
        start = time.perf_counter()
        result = run_cluster(items, args.threshold, args.backend)
        seconds = time.perf_counter() - start
        score = bcubed({k: v["story"] for k, v in result.items()}, gold)
        stories = len({v["story"] for v in result.values()})
        print(
            f"{name:20s} stories  P {score.precision:.3f}  R {score.recall:.3f}  "
            f"F1 {score.f1:.3f}  ({len(items)} items, {stories} stories, {seconds:.1f} s)"
        )
        figures[name] = {"P": score.precision, "R": score.recall, "F1": score.f1}
        if name == "sample_week":
            themes = {k: v["theme"] or "unthemed:" + v["story"] for k, v in result.items()}
            t = bcubed(themes, week_themes)
            print(f"{name:20s} themes   P {t.precision:.3f}  R {t.recall:.3f}  F1 {t.f1:.3f}")
            figures["sample_week_themes"] = {"P": t.precision, "R": t.recall, "F1": t.f1}
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
