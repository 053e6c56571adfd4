"""Seconds to crawl a feed holding one 9 MiB attribute, against a feed of the same size without.

Before expat 2.6, a token spanning many of the 64 KiB chunks feedparser feeds is parsed again
from its start with each chunk. Both feeds are served from loopback and crawled through the
crawl stage (crawl.max_bytes 16 MiB), best of --repeat runs each. Run by hand:

    .venv/bin/python bench/feed_tokens.py [--repeat 3]

The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import pyexpat
import sys
import time
from pathlib import Path

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digest.crawl import FetchPolicy, SourceResult, crawl_sync
from digest.models import Source
from tests.loopback import Reply, serve

MiB = 1 << 20


def _feed(extra: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Big</title><link>https://example.com/big</link>"
        f"{extra}</item></channel></rss>"
    ).encode()


def _crawl(url: str, repeat: int) -> tuple[float, SourceResult]:
    policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), max_bytes=16 * MiB)
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        (result,) = crawl_sync([Source("Big", "feed", url)], policy)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = "x" * (9 * MiB)
    routes = {
        "/attribute": Reply(_feed(f'<x a="{text}"/>'), "application/rss+xml"),
        "/text": Reply(_feed(f"<x>{text}</x>"), "application/rss+xml"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        attribute, refused = _crawl(f"{server.base}/attribute", args.repeat)
        plain, read = _crawl(f"{server.base}/text", args.repeat)
    figures = {
        "expat": pyexpat.EXPAT_VERSION,
        "attribute_9mib_s": round(attribute, 3),
        "attribute_outcome": refused.error or f"{len(refused.articles)} articles",
        "text_9mib_s": round(plain, 3),
        "text_outcome": read.error or f"{len(read.articles)} articles",
    }
    print(f"{pyexpat.EXPAT_VERSION}: 9 MiB attribute {attribute:.2f} s, 9 MiB text {plain:.2f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
