"""A synthetic week through crawl (loopback), analyze, write and publish, timed per stage.

    python bench/weekly.py [--articles 5000] [--sources 100] [--hosts 10] [--store URL]

Feeds are served from several loopback addresses (127.0.0.2, 127.0.0.3, ...) so per-host
limits behave as on the real web. Baselines measured in the same run: feedparser on the same
bytes (crawl) and a bare sentence-transformers encode of the same texts (analyze). The last
line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import numpy as np

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import Item, generate, rss

from digest import pipeline
from digest.analyze.embed import Embedder, embedding_text
from digest.analyze.evaluate import bcubed
from digest.cli import setup as demo
from digest.config import CrawlSettings, StoreSettings
from digest.models import Source
from digest.publish import publish
from digest.store import Store


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve_on(hosts: list[str], folder: Path) -> Iterator[dict[str, int]]:
    """One HTTP server per loopback address, all serving `folder`; yields host -> port."""
    servers = [ThreadingHTTPServer((h, 0), partial(_Quiet, directory=str(folder))) for h in hosts]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        yield {h: s.server_address[1] for h, s in zip(hosts, servers, strict=True)}
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


class Counting:
    """An embedder that counts what it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.name, self._inner = inner.name, inner
        self.calls = self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self._inner.embed(texts)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start a new high-water mark of resident memory (Linux: clear_refs 5), if allowed."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def stage_peak_mb() -> float:
    """Peak resident memory since reset_peak (VmHWM), or of the whole process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mb()


def story_quality(store: Store, monday: date, items: list[Item]) -> dict[str, float]:
    """Events generated against stories found, and BCubed of the stories against the events."""
    event_of = {i.link: str(i.event) for i in items}
    articles = store.articles_between(monday, monday + timedelta(days=7))
    story_of = store.story_of([a.id for a in articles])
    gold = {a.id: event_of[a.url] for a in articles if a.url in event_of}
    score = bcubed(story_of, gold)
    return {
        "events": len(set(event_of.values())),
        "stories_found": len(set(story_of.values())),
        "stories_bcubed_precision": score.precision,
        "stories_bcubed_recall": score.recall,
        "stories_bcubed_f1": score.f1,
        "stories_scored_articles": len(gold),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--store", default="", help="store URL (default: SQLite in the work dir)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    items = generate(args.articles, args.sources)
    work = Path(tempfile.mkdtemp(prefix="digest-weekly-"))
    (work / "feeds").mkdir()
    feeds: dict[int, bytes] = {}
    for s in range(args.sources):
        feeds[s] = rss([i for i in items if i.source == s], f"Outlet {s}")
        (work / "feeds" / f"s{s}.xml").write_bytes(feeds[s])
    hosts = [f"127.0.0.{2 + h}" for h in range(args.hosts)]
    figures: dict[str, float] = {"articles": len(items), "sources": args.sources}

    t = time.perf_counter()
    parsed = sum(len(feedparser.parse(b).entries) for b in feeds.values())
    figures["baseline_feedparser_s"] = time.perf_counter() - t

    settings = demo.demo_settings(work / "out")
    settings = settings.model_copy(
        update={"crawl": CrawlSettings(allowed_hosts=tuple(hosts), concurrency=16)}
    )
    if args.store:
        settings = settings.model_copy(update={"store": StoreSettings(url=args.store)})
    store = Store(settings.store.url)
    with serve_on(hosts, work / "feeds") as ports:
        sources = [
            Source(
                f"Outlet {s}",
                "feed",
                f"http://{hosts[s % len(hosts)]}:{ports[hosts[s % len(hosts)]]}/s{s}.xml",
            )
            for s in range(args.sources)
        ]
        reset_peak()
        t = time.perf_counter()
        report = pipeline.crawl(sources, store, pipeline.fetch_policy(settings))
        figures["crawl_s"] = time.perf_counter() - t
        figures["crawl_peak_mb"] = stage_peak_mb()
    figures["crawl_new"] = report.new_articles
    figures["crawl_failed"] = len(report.failed)
    figures["crawl_ratio_to_feedparser"] = figures["crawl_s"] / figures["baseline_feedparser_s"]
    print(f"crawl: {report.new_articles} new of {parsed} parsed in {figures['crawl_s']:.1f} s")

    t = time.perf_counter()
    embedder = pipeline.load_embedder(settings)
    figures["model_load_s"] = time.perf_counter() - t
    monday = pipeline.latest_week(store)
    # The texts analyze embeds (title and lede), so the ratio is analyze's own overhead.
    texts = [embedding_text(a) for a in store.articles_between(monday, monday + timedelta(7))]
    t = time.perf_counter()
    embedder.embed(texts)
    figures["baseline_encode_s"] = time.perf_counter() - t
    weights = {s.name: s.weight for s in sources}
    reset_peak()
    t = time.perf_counter()
    analysis = pipeline.analyze(store, embedder, monday, settings, weights)
    figures["analyze_s"] = time.perf_counter() - t
    figures["analyze_peak_mb"] = stage_peak_mb()
    figures["analyze_ratio_to_encode"] = figures["analyze_s"] / figures["baseline_encode_s"]
    figures.update(story_quality(store, monday, items))
    reset_peak()
    t = time.perf_counter()
    counted = Counting(embedder)
    issue = pipeline.write(analysis, counted, monday, settings)
    figures["write_s"] = time.perf_counter() - t
    figures["write_peak_mb"] = stage_peak_mb()
    figures["write_embedded_texts"] = counted.texts
    figures["write_embed_calls"] = counted.calls
    store.save_issue(issue)
    reset_peak()
    t = time.perf_counter()
    publish(issue, store.issues(), pipeline.publish_settings(settings))
    figures["publish_s"] = time.perf_counter() - t
    figures["publish_peak_mb"] = stage_peak_mb()
    figures["themes"] = len(issue.sections)
    figures["stories"] = len(analysis.unthemed) + sum(len(t.stories) for t in analysis.themes)
    figures["week_s"] = sum(
        figures[k] for k in ("crawl_s", "model_load_s", "analyze_s", "write_s", "publish_s")
    )
    figures["peak_rss_mb"] = peak_mb()
    store.close()
    for key in ("crawl", "model_load", "analyze", "write", "publish", "week"):
        peak = figures.get(f"{key}_peak_mb")
        print(
            f"{key:>10}: {figures[key + '_s']:7.1f} s" + (f", peak {peak:.0f} MB" if peak else "")
        )
    print(
        f"events {figures['events']:.0f}, stories found {figures['stories_found']:.0f}, "
        f"BCubed F1 {figures['stories_bcubed_f1']:.3f} (P {figures['stories_bcubed_precision']:.3f}"
        f", R {figures['stories_bcubed_recall']:.3f})"
    )
    print(
        f"themes {figures['themes']}, stories {figures['stories']}, "
        f"peak RSS {figures['peak_rss_mb']:.0f} MB, work dir {work}"
    )
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
