"""Analyze-stage speed: embedding throughput against bare encode, stories+themes at scale, re-run.

Run by hand: .venv/bin/python bench/analyze.py [--sizes 2000,10000,50000] [--embed 1000]
    [--week 5000]
Synthetic articles (seeded): events told by 1-6 sources in different words, as unit vectors
built around event and theme directions, so clustering time is measured without embedding.
The end-to-end week embeds bench/synthetic.py's texts (events told by 1-4 sources) with each
backend and scores its stories against the events (BCubed F1).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synthetic import generate

from digest.analyze import build_themes, make_story
from digest.analyze.cluster import cluster_articles
from digest.analyze.embed import (
    Embedder,
    MemoryCache,
    SentenceTransformerEmbedder,
    embed_texts,
    make_embedder,
)
from digest.analyze.evaluate import bcubed
from digest.analyze.stories import group_stories
from digest.config import AnalyzeSettings
from digest.models import Article

WORDS = [
    "model",
    "open",
    "weights",
    "agent",
    "chip",
    "data",
    "policy",
    "lab",
    "release",
    "benchmark",
    "training",
    "audio",
]


def synthetic(n: int, seed: int = 7) -> tuple[list[Article], np.ndarray]:
    rng = np.random.default_rng(seed)
    themes = rng.normal(size=(40, 384))
    articles, vectors, start = [], [], datetime(2026, 11, 16, tzinfo=UTC)
    event = 0
    while len(articles) < n:
        centre = themes[event % 40] + 1.2 * rng.normal(size=384)
        when = start + timedelta(hours=float(rng.uniform(0, 24 * 7)))
        for k in range(int(rng.integers(1, 7))):
            title = " ".join(rng.choice(WORDS, 8)) + f" e{event}"
            vectors.append(centre + 0.9 * rng.normal(size=384))
            articles.append(
                Article(
                    f"a{len(articles)}",
                    f"https://e{k}.com/{len(articles)}",
                    title,
                    "",
                    f"src{k}",
                    when + timedelta(hours=k),
                    f"h{len(articles)}",
                )
            )
        event += 1
    v = np.asarray(vectors[:n], dtype=np.float32)
    return articles[:n], v / np.linalg.norm(v, axis=1, keepdims=True)


def stories_and_themes(articles: list[Article], vectors: np.ndarray) -> float:
    start = time.perf_counter()
    g = group_stories(articles, vectors, [], 0.62, timedelta(days=14))
    rows: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        rows.setdefault(g.assignments[a.id], []).append(i)
    made = [make_story(s, [articles[i] for i in m], vectors[m], False) for s, m in rows.items()]
    build_themes(
        [s for s, _ in made],
        np.vstack([c for _, c in made]),
        {},
        datetime(2026, 11, 23, tzinfo=UTC),
        3,
        8,
    )
    return time.perf_counter() - start


class _Free:
    """An embedder that costs nothing: what embed_texts adds around a real one."""

    name = "free"

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 384), dtype=np.float32)


def week_articles(n: int) -> tuple[list[Article], dict[str, str]]:
    """bench/synthetic.py's week as articles, and each article's event (the gold story)."""
    items = generate(n, sources=40)
    articles = [
        Article(f"w{i}", it.link, it.title, it.summary, f"src{it.source}", it.published, f"h{i}")
        for i, it in enumerate(items)
    ]
    return articles, {a.id: str(it.event) for a, it in zip(articles, items, strict=True)}


def week_end_to_end(n: int, embedder: Embedder) -> tuple[float, float]:
    """Seconds to analyze a week of n new articles (embedding included), and story F1."""
    articles, gold = week_articles(n)
    start = time.perf_counter()
    result = cluster_articles(articles, embedder, MemoryCache(), AnalyzeSettings())
    seconds = time.perf_counter() - start
    return seconds, bcubed({a.id: a.story for a in result}, gold).f1


def onnx_agreement(texts: list[str], torch_vectors: np.ndarray) -> dict[str, float]:
    """onnx-int8 against torch fp32 on the same texts: throughput, row and pairwise agreement."""
    t = time.perf_counter()
    onnx = make_embedder(backend="onnx-int8")
    load = time.perf_counter() - t
    rates = []
    for _ in range(3):
        t = time.perf_counter()
        vectors = onnx.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - t))
    upper = np.triu_indices(len(texts), 1)
    pairs = spearmanr((torch_vectors @ torch_vectors.T)[upper], (vectors @ vectors.T)[upper])
    return {
        "onnx_load_s": load,
        "onnx_texts_per_s": statistics.median(rates),
        "onnx_row_cosine_min": float((vectors * torch_vectors).sum(axis=1).min()),
        "onnx_pair_spearman": float(pairs.statistic),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,10000,50000")
    parser.add_argument("--embed", type=int, default=1000, help="texts for the throughput test")
    parser.add_argument("--week", type=int, default=5000, help="articles of the end-to-end week")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    articles, _ = synthetic(args.embed, seed=1)
    texts = [f"{a.title}. " + " ".join(WORDS * 3) for a in articles]
    embedder = SentenceTransformerEmbedder()
    bare, ours = [], []
    for rep in range(4):
        # Each goes first in turn: on a busy machine the load drifts within a repetition.
        for stage in (rep % 2 == 1, rep % 2 == 0):
            t = time.perf_counter()
            if stage:
                cache = MemoryCache()
                embed_texts(texts, embedder, cache)
            else:
                embedder._model.encode(texts, batch_size=64, normalize_embeddings=True)
            (ours if stage else bare).append(len(texts) / (time.perf_counter() - t))
    t = time.perf_counter()
    embed_texts(texts, embedder, cache)
    rerun = time.perf_counter() - t
    first = len(texts) / statistics.median(ours)
    figures["embed_texts_per_s"] = statistics.median(ours)
    figures["bare_encode_texts_per_s"] = statistics.median(bare)
    figures["embed_ratio"] = statistics.median(ours) / statistics.median(bare)
    figures["rerun_fraction"] = rerun / first
    # The stage's own cost (hashing, cache look-ups and writes, stacking) with an embedder
    # that costs nothing, as a share of bare encode: steadier than the ratio on a busy machine.
    t = time.perf_counter()
    embed_texts(texts, _Free(), MemoryCache())
    figures["stage_overhead_share"] = (
        (time.perf_counter() - t) * statistics.median(bare) / len(texts)
    )
    print(
        f"embedding: stage {figures['embed_texts_per_s']:.1f}/s, bare encode "
        f"{figures['bare_encode_texts_per_s']:.1f}/s, ratio {figures['embed_ratio']:.3f} "
        f"(stage's own cost {figures['stage_overhead_share']:.4f} of encode); "
        f"re-run with nothing new {figures['rerun_fraction']:.4f} of the first run"
    )
    reference = embedder.embed(texts)
    figures.update(onnx_agreement(texts, reference))
    figures["onnx_speedup"] = figures["onnx_texts_per_s"] / statistics.median(bare)
    print(
        f"onnx-int8: {figures['onnx_texts_per_s']:.1f}/s ({figures['onnx_speedup']:.2f}x torch "
        f"fp32), row cosine min {figures['onnx_row_cosine_min']:.4f}, pairwise Spearman "
        f"{figures['onnx_pair_spearman']:.4f}, export/load {figures['onnx_load_s']:.1f} s",
        flush=True,
    )
    if args.week:
        for backend in ("torch", "onnx-int8"):
            seconds, f1 = week_end_to_end(args.week, make_embedder(backend=backend))
            figures[f"week_{args.week}_{backend}_s"] = seconds
            figures[f"week_{args.week}_{backend}_f1"] = f1
            print(f"{args.week}-article week, {backend}: {seconds:.1f} s, story F1 {f1:.3f}")
    for n in (int(x) for x in args.sizes.split(",")):
        arts, vecs = synthetic(n)
        seconds = stories_and_themes(arts, vecs)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures[f"stories_themes_s_{n}"] = seconds
        figures[f"peak_rss_mb_{n}"] = rss
        print(f"stories+themes at {n}: {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
