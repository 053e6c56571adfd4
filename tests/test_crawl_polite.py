"""Asking again politely: validators kept fresh, one deadline per fetch, a host's 429 heeded."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from digest import pipeline
from digest.crawl import FetchPolicy, crawl_sync
from digest.models import Source
from digest.store import Store
from tests.loopback import Reply, drip, send, serve

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>Hello</title><link>https://example.com/hello</link></item></channel></rss>"
)
ARTICLE = (Path(__file__).parent / "data" / "crawl" / "article.html").read_bytes()
POLICY = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0, retry_wait=0)
OLD, NEW = "Mon, 07 Jul 2025 10:00:00 GMT", "Tue, 08 Jul 2025 10:00:00 GMT"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'digest.db'}")


class _NotModifiedForever:
    """The feed once, then 304 to every request, with a newer Last-Modified after the first."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        since = handler.headers.get("If-Modified-Since", "")
        self.asked.append(since)
        if len(self.asked) == 1:
            send(handler, Reply(FEED, "application/rss+xml", headers={"Last-Modified": OLD}))
        else:
            send(handler, Reply(status=304, headers={"Last-Modified": NEW, "Expires": "0"}))


def test_a_304_with_a_newer_last_modified_is_remembered(store: Store) -> None:
    feed = _NotModifiedForever()
    with serve({"/feed": feed}) as server:
        source = Source("Blog", "feed", f"{server.base}/feed")
        for _ in range(3):
            pipeline.crawl([source], store, POLICY, force=True)
    assert feed.asked == ["", OLD, NEW]


def test_validators_older_than_a_week_are_not_sent(store: Store) -> None:
    feed = _NotModifiedForever()
    with serve({"/feed": feed}) as server:
        source = Source("Blog", "feed", f"{server.base}/feed")
        pipeline.crawl([source], store, POLICY, force=True)
        pipeline.crawl([source], store, POLICY, force=True)  # 304
        health = store.source_health()["Blog"]
        assert health.validated_at is not None
        eight_days_ago = health.validated_at - timedelta(days=8)
        store.save_source_health([replace(health, validated_at=eight_days_ago)])
        pipeline.crawl([source], store, POLICY, force=True)
    assert feed.asked == ["", OLD, ""]  # the third request is unconditional


class _LimitedThenSlow:
    """A 429 asking for `wait` seconds, then a body that drips slower than any deadline."""

    def __init__(self, wait: int) -> None:
        self.wait, self.calls = wait, 0

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        self.calls += 1
        if self.calls == 1:
            send(handler, Reply(status=429, headers={"Retry-After": str(self.wait)}))
            return
        drip(handler, 10.0)


def test_one_deadline_covers_a_fetch_its_wait_and_its_retry() -> None:
    policy = replace(POLICY, deadline=3.0, retry_wait=5.0, read_timeout=5.0)
    with serve({"/feed": _LimitedThenSlow(2)}) as server:
        started = time.monotonic()
        (result,) = crawl_sync([Source("Blog", "feed", f"{server.base}/feed")], policy)
        took = time.monotonic() - started
    assert result.error is not None and "took longer than 3 s" in result.error
    assert took < 4.0, f"{took:.1f} s"  # a fresh deadline for the retry took 5 s and more


def test_a_retry_after_past_the_deadline_is_not_waited_for() -> None:
    policy = replace(POLICY, deadline=2.0, retry_wait=10.0)
    limited = _LimitedThenSlow(3)
    with serve({"/feed": limited}) as server:
        started = time.monotonic()
        (result,) = crawl_sync([Source("Blog", "feed", f"{server.base}/feed")], policy)
    assert time.monotonic() - started < 1.5 and limited.calls == 1
    assert result.error is not None and "asked us to wait 3 s" in result.error
    assert result.retry_after == 3.0


@pytest.mark.parametrize("retry_after", ["120", ""])
def test_a_429_holds_every_feed_of_that_host(retry_after: str) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    routes = {
        "/a": Reply(b"slow down", status=429, headers=headers),
        "/b": Reply(FEED, "application/rss+xml"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        sources = [Source(n, "feed", f"{server.base}/{n}") for n in ("a", "b")]
        a, b = crawl_sync(sources, replace(POLICY, per_host=1))
    assert server.hits("/b") == []  # never asked: its host asked us to wait
    assert a.error is not None and b.error is not None
    assert b.error.startswith(f"{server.base}/b was not fetched: its host answered 429")
    assert b.retry_after is not None and b.retry_after > 100


def test_a_robots_txt_over_500_kib_is_read_up_to_500_kib(store: Store) -> None:
    rules = b"User-agent: *\nDisallow: /private/\n"
    robots = rules + b"# padding\n" * (60 * 1024)  # 600 KiB
    routes = {
        "/feed": Reply(b"", "application/rss+xml"),
        "/robots.txt": Reply(robots, "text/plain"),
        "/article": Reply(ARTICLE, "text/html; charset=utf-8"),
        "/private/page": Reply(ARTICLE, "text/html; charset=utf-8"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        items = "".join(
            f"<item><title>{p}</title><link>{server.base}{p}</link></item>"
            for p in ("/article", "/private/page")
        )
        routes["/feed"] = Reply(
            FEED.replace(b"<item>", items.encode() + b"<item>", 1), "application/rss+xml"
        )
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        pipeline.crawl([source], store, POLICY)
        assert len(server.hits("/article")) == 1 and server.hits("/private/page") == []
    status, body, _ = store.robots_files()[server.base]
    assert status == 200 and len(body) == 500 * 1024 and body.startswith(rules.decode())
