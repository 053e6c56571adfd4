"""Analyze-stage speed: embedding throughput against bare encode, stories+themes at scale, re-run.

Run by hand: .venv/bin/python bench/analyze.py [--sizes 2000,10000,50000] [--embed 1000]
Synthetic articles (seeded): events told by 1-6 sources in different words, as unit vectors
built around event and theme directions, so clustering time is measured without embedding.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from digest.analyze import build_themes, make_story
from digest.analyze.embed import MemoryCache, SentenceTransformerEmbedder, embed_texts
from digest.analyze.stories import group_stories
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,10000,50000")
    parser.add_argument("--embed", type=int, default=1000, help="texts for the throughput test")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    articles, _ = synthetic(args.embed, seed=1)
    texts = [f"{a.title}. " + " ".join(WORDS * 3) for a in articles]
    embedder = SentenceTransformerEmbedder()
    bare, ours = [], []
    for _ in range(3):
        t = time.perf_counter()
        embedder._model.encode(texts, batch_size=64, normalize_embeddings=True)
        bare.append(len(texts) / (time.perf_counter() - t))
        cache = MemoryCache()
        t = time.perf_counter()
        embed_texts(texts, embedder, cache)
        ours.append(len(texts) / (time.perf_counter() - t))
    t = time.perf_counter()
    embed_texts(texts, embedder, cache)
    rerun = time.perf_counter() - t
    first = len(texts) / statistics.median(ours)
    figures["embed_texts_per_s"] = statistics.median(ours)
    figures["bare_encode_texts_per_s"] = statistics.median(bare)
    figures["embed_ratio"] = statistics.median(ours) / statistics.median(bare)
    figures["rerun_fraction"] = rerun / first
    print(
        f"embedding: stage {figures['embed_texts_per_s']:.1f}/s, bare encode "
        f"{figures['bare_encode_texts_per_s']:.1f}/s, ratio {figures['embed_ratio']:.3f}; "
        f"re-run with nothing new {figures['rerun_fraction']:.4f} of the first run"
    )
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
