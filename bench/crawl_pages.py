"""Peak memory of a crawl whose article pages are compression bombs sent as plain HTML.

One feed on loopback lists 20 article pages; each page is 19 MB of NULs brotli-compressed
to 40 bytes and served as text/html without a Content-Encoding, so no fetcher cap
applies to it. The crawl (crawl.max_bytes 1 MiB, full text on) runs in a fresh process, once
with those pages and once with 20 ordinary article pages, and each process's peak RSS is
reported (VmHWM, reset before the crawl: Linux only); the difference is what the bombs cost.
Run by hand:

    .venv/bin/python bench/crawl_pages.py

The last line is a JSON object of the figures.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
from pathlib import Path

import brotli

# This checkout's digest, not the one installed in the venv (a worktree's would be ignored).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digest import pipeline
from digest.crawl import FetchPolicy
from digest.models import Source
from digest.store import Store
from tests.loopback import Reply, serve

ROOT = Path(__file__).resolve().parents[1]
PAGES = 20
MiB = 1 << 20


def _crawl(page: bytes, result: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    routes = {f"/page/{n}": Reply(page, "text/html; charset=utf-8") for n in range(PAGES)}
    with serve(routes) as server, tempfile.TemporaryDirectory() as tmp:  # type: ignore[arg-type]
        items = "".join(
            f"<item><title>Page {n}</title><link>{server.base}/page/{n}</link></item>"
            for n in range(PAGES)
        )
        routes["/feed"] = Reply(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t'
            f"</title>{items}</channel></rss>".encode(),
            "application/rss+xml",
        )
        before = _reset_peak()
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), max_bytes=MiB)
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        pipeline.crawl([source], store, policy, full_text_pages=PAGES)
        store.close()
        peak = _status("VmHWM")
    result.put((before, peak, len(page)))


def _reset_peak() -> float:
    """This process's RSS in MB, after making it its peak (Linux: /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _measure(page: bytes) -> tuple[float, float, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_crawl, args=(page, queue))
    process.start()
    figures = queue.get(timeout=600)
    process.join()
    return figures  # type: ignore[no-any-return]


def main() -> None:
    article = (ROOT / "tests" / "data" / "crawl" / "article.html").read_bytes()
    plain_before, plain_peak, plain_size = _measure(article)
    bomb_before, bomb_peak, bomb_size = _measure(brotli.compress(b"\0" * 19_000_000))
    figures = {
        "pages": PAGES,
        "bomb_page_bytes": bomb_size,
        "plain_page_bytes": plain_size,
        "plain_rss_before_mb": round(plain_before, 1),
        "plain_peak_rss_mb": round(plain_peak, 1),
        "bombs_rss_before_mb": round(bomb_before, 1),
        "bombs_peak_rss_mb": round(bomb_peak, 1),
        "bombs_cost_mb": round((bomb_peak - bomb_before) - (plain_peak - plain_before), 1),
    }
    print(
        f"{PAGES} pages: plain crawl peak {plain_peak:.0f} MB (+{plain_peak - plain_before:.0f}), "
        f"bomb pages ({bomb_size} bytes each) peak {bomb_peak:.0f} MB "
        f"(+{bomb_peak - bomb_before:.0f}); the bombs cost {figures['bombs_cost_mb']} MB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
