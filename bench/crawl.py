"""Crawl 1,000 loopback feeds of 50 items (20 of them faulty) against a bare httpx loop.

The server runs in its own process on 100 addresses (127.0.1.1-100), adding 100-300 ms of
latency per response, so per-host politeness works as on the real web. Run by hand:

    .venv/bin/python bench/crawl.py [--feeds 1000] [--concurrency 32] [--repeat 3]

The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digest import pipeline
from digest.crawl import FetchPolicy
from digest.models import Source
from digest.store import Store

HOSTS = [f"127.0.1.{n}" for n in range(1, 101)]
FAULTS = ("500", "404", "html", "malformed", "silent", "bomb", "redirect-loop", "private")


def _feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} story {i}: a model does something new</title>"
        f"<link>https://site{n}.example.com/posts/{i}</link><guid>urn:{n}:{i}</guid>"
        f"<pubDate>Mon, 07 Jul 2025 {i % 24:02d}:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;Story {i} of feed {n}, about what a lab released and why "
        f"it matters to people who build with language models.&lt;/p&gt;</description></item>"
        for i in range(50)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}'
        f"</title><link>https://site{n}.example.com/</link><description>d</description>"
        f"{items}</channel></rss>"
    ).encode()


def _serve(ports: multiprocessing.Queue, seed: int) -> None:  # type: ignore[type-arg]
    rng = random.Random(seed)
    bomb = gzip.compress(b"\0" * (64 << 20))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode()
                await asyncio.sleep(rng.uniform(0.1, 0.3))
                kind, n = path.strip("/").split("/")
                status, headers, body = 200, "Content-Type: application/rss+xml\r\n", b""
                if kind == "silent":
                    await asyncio.sleep(30)
                elif kind == "500":
                    status = 500
                elif kind == "404":
                    status = 404
                elif kind == "html":
                    headers, body = "Content-Type: text/html\r\n", b"<html><p>hi</p></html>"
                elif kind == "malformed":
                    body = b"<rss><channel><item><title>broken</ti"
                elif kind == "bomb":
                    headers += "Content-Encoding: gzip\r\n"
                    body = bomb
                elif kind == "redirect-loop":
                    status, headers = 302, f"Location: /redirect-loop/{n}\r\n"
                elif kind == "private":
                    status, headers = 302, "Location: http://10.0.0.1/feed\r\n"
                else:
                    body = _feed(int(n))
                writer.write(
                    f"HTTP/1.1 {status} X\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, host, 0) for host in HOSTS]
        ports.put([s.sockets[0].getsockname()[1] for s in servers])
        await asyncio.Event().wait()

    asyncio.run(main())


def _urls(ports: list[int], feeds: int) -> tuple[list[str], set[int]]:
    faulty = set(random.Random(1).sample(range(feeds), 20))
    urls = []
    for n in range(feeds):
        h = n % len(HOSTS)
        kind = FAULTS[n % len(FAULTS)] if n in faulty else "feed"
        urls.append(f"http://{HOSTS[h]}:{ports[h]}/{kind}/{n}")
    return urls, faulty


async def _bare(urls: list[str], concurrency: int) -> int:
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:

        async def one(url: str) -> int:
            async with slots:
                try:
                    r = await client.get(url)
                    return len(r.content)
                except httpx.HTTPError:
                    return 0

        return sum(await asyncio.gather(*(one(u) for u in urls)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(queue, 7), daemon=True)
    server.start()
    ports = queue.get(timeout=30)
    urls, faulty = _urls(ports, args.feeds)
    sources = [Source(f"feed {n}", "feed", u, full_text=False) for n, u in enumerate(urls)]
    policy = FetchPolicy(
        concurrency=args.concurrency,
        per_host=2,
        host_delay=0.0,
        deadline=5.0,
        allowed_hosts=frozenset(HOSTS),
    )
    ours, bare, summary = [], [], None
    for _ in range(args.repeat):
        started = time.perf_counter()
        asyncio.run(_bare(urls, args.concurrency))
        bare.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
            started = time.perf_counter()
            report = pipeline.crawl(sources, store, policy, force=True)
            ours.append(time.perf_counter() - started)
            stored = store.count_articles()
            store.close()
        summary = report
    assert summary is not None
    failed = {int(o.source.split()[1]): o.error for o in summary.failed}
    print(f"{args.feeds} feeds ({len(faulty)} faulty) on {len(HOSTS)} loopback hosts")
    for n in sorted(faulty):
        print(f"  feed {n} ({urls[n].split('/')[3]}): {failed.get(n, 'NOT REPORTED')}")
    good = args.feeds - len(faulty)
    print(f"stored {stored} articles from {good} good feeds (expected {good * 50})")
    t, b = statistics.median(ours), statistics.median(bare)
    figures = {
        "feeds": args.feeds,
        "concurrency": args.concurrency,
        "crawl_s_median": round(t, 2),
        "crawl_s_min": round(min(ours), 2),
        "crawl_s_max": round(max(ours), 2),
        "bare_httpx_s_median": round(b, 2),
        "feeds_per_s": round(args.feeds / t, 1),
        "bare_feeds_per_s": round(args.feeds / b, 1),
        "ratio_to_bare": round(b / t, 2),
        "faults_reported": sum(n in failed for n in faulty),
        "good_feeds_failed": len(failed) - sum(n in failed for n in faulty),
        "articles_stored": stored,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # The largest parsing worker (the server process is still running, so not counted).
        "peak_rss_worker_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine
    }
    print(
        f"crawl {t:.1f} s ({figures['feeds_per_s']} feeds/s) vs bare httpx {b:.1f} s: "
        f"ratio {figures['ratio_to_bare']}; peak RSS {figures['peak_rss_mb']} MB "
        f"(+ {figures['peak_rss_worker_mb']} MB per parsing worker); "
        f"load average {figures['load_average_1min']}"
    )
    print(json.dumps(figures))
    server.kill()


if __name__ == "__main__":
    main()
