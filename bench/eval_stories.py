"""Story clustering quality: `digest cluster` on the shared evaluation sets, BCubed P/R/F1.

Run by hand: .venv/bin/python bench/eval_stories.py [--threshold 0.62] [--backend onnx-int8]
Vectors are cached in .cache/vectors.db, so only the first run embeds.
UCI timestamps are dropped: each UCI story is one block of crawl times (a label leak).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from corpora import CACHE, ROOT, ai_news, sample_week, uci

from digest.analyze.evaluate import bcubed

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=None, help="override the default")
    parser.add_argument("--backend", default=None, help="embedding backend (torch, onnx-int8)")
    args = parser.parse_args()
    figures: dict[str, Any] = {"threshold": args.threshold, "backend": args.backend}
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
