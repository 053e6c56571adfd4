"""The Ray executor against the local one on this machine: a loopback crawl and embedding.

    python bench/ray_executor.py [--texts 2000] [--sources 40] [--actors 1 2]

The baseline is the local executor on the same feeds and texts, in the same run. Ray figures
are what a run pays: the local Ray's start-up (reported apart), and for embedding each Ray
Data job's actor start-up and model load. The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate, rss
from weekly import serve_on

from digest.config import EmbedSettings, ExecutorSettings
from digest.crawl import CrawlMemory, FetchPolicy
from digest.models import Source
from digest.pipeline.executors import LOCAL, close_executors, executor_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = generate(args.texts, args.sources)
    texts = [f"{i.title}. {i.summary}" for i in items]
    work = Path(tempfile.mkdtemp(prefix="digest-ray-bench-"))
    for s in range(args.sources):
        (work / f"s{s}.xml").write_bytes(rss([i for i in items if i.source == s], f"Outlet {s}"))
    figures: dict[str, float] = {"texts": len(texts), "sources": args.sources}

    t = time.perf_counter()
    ray_executor = executor_for(ExecutorSettings(kind="ray", dataset_from=1))
    figures["ray_start_s"] = time.perf_counter() - t
    with serve_on(["127.0.0.1"], work) as ports:
        base = f"http://127.0.0.1:{ports['127.0.0.1']}"
        sources = [Source(f"Outlet {s}", "feed", f"{base}/s{s}.xml") for s in range(args.sources)]
        policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), per_host=16, concurrency=16)
        for name, executor in (("local", LOCAL), ("ray", ray_executor)):
            t = time.perf_counter()
            results = executor.crawl(sources, policy, None, CrawlMemory())
            figures[f"crawl_{name}_s"] = time.perf_counter() - t
            figures[f"crawl_{name}_articles"] = sum(len(r.articles) for r in results)
    figures["crawl_ray_ratio"] = figures["crawl_ray_s"] / figures["crawl_local_s"]

    embed = EmbedSettings()
    t = time.perf_counter()
    local = LOCAL.embedder(embed).embed(texts)  # model load included, as a run pays it
    figures["embed_local_s"] = time.perf_counter() - t
    for actors in args.actors:
        on_ray = executor_for(ExecutorSettings(kind="ray", dataset_from=1, embed_actors=actors))
        t = time.perf_counter()
        vectors = on_ray.embedder(embed).embed(texts)
        figures[f"embed_ray_{actors}_actors_s"] = time.perf_counter() - t
        figures[f"embed_ray_{actors}_actors_ratio"] = (
            figures[f"embed_ray_{actors}_actors_s"] / figures["embed_local_s"]
        )
        figures[f"embed_ray_{actors}_actors_max_diff"] = float(np.abs(vectors - local).max())
    close_executors()
    for key, value in figures.items():
        print(f"{key:>32}: {value:.3f}" if isinstance(value, float) else f"{key:>32}: {value}")
    print(json.dumps({k: round(v, 6) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
