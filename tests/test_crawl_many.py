"""A crawl of many loopback feeds, some faulty: every fault named, every good feed stored."""

from __future__ import annotations

import time
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from digest import pipeline
from digest.crawl import FetchPolicy, crawl_sync
from digest.crawl.parsing import POOL_FROM
from digest.crawl.text import html_to_text
from digest.models import Source
from digest.store import Store
from tests.loopback import Reply, Route, send, serve

POLICY = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0, retry_wait=0)
GOOD = POOL_FROM + 5  # enough sources that feeds are parsed in worker processes
FAULTS = {
    "/500": "answered 500",
    "/404": "answered 404",
    "/page": "it is a web page",
    "/malformed": "not well-formed XML",
    "/loop": "redirected more than",
}


def _feed(n: int, items: int = 5) -> bytes:
    body = "".join(
        f"<item><title>Feed {n} item {i}</title><link>https://f{n}.example.com/{i}</link>"
        f"<description>&lt;p&gt;One &amp;amp; two&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;"
        f"&lt;p&gt;three&lt;/p&gt;</description>"
        f"<pubDate>Mon, 07 Jul 2025 10:0{i}:00 +0000</pubDate></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>https://f{n}.example.com/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def test_many_feeds_with_faults_name_each_fault_and_store_every_good_feed(tmp_path: Path) -> None:
    routes: dict[str, Route] = {
        f"/feed/{n}": Reply(_feed(n), "application/rss+xml") for n in range(GOOD)
    }
    routes |= {
        "/500": Reply(b"oops", status=500),
        "/404": Reply(b"gone", status=404),
        "/page": Reply(b"<html><body><p>hi</p></body></html>", "text/html"),
        "/malformed": Reply(b"<rss><channel><item><title>broken</ti", "application/rss+xml"),
        "/loop": Reply(status=302, headers={"Location": "/loop"}),
    }
    with serve(routes) as server:
        sources = [Source(f"good {n}", "feed", f"{server.base}/feed/{n}") for n in range(GOOD)]
        sources += [Source(f"bad {path}", "feed", f"{server.base}{path}") for path in FAULTS]
        store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
        report = pipeline.crawl(sources, store, POLICY, force=True)
    errors = {o.source: o.error for o in report.failed}
    assert set(errors) == {f"bad {path}" for path in FAULTS}
    for path, words in FAULTS.items():
        assert words in (errors[f"bad {path}"] or ""), errors[f"bad {path}"]
    assert store.count_articles() == GOOD * 5
    assert all(o.new == 5 for o in report.outcomes if o.source.startswith("good"))
    (article, *_) = store.articles_between(date(2025, 7, 7), date(2025, 7, 14))
    assert article.summary == "One & two\nthree"  # script text dropped in the worker too


def test_waiting_for_a_busy_host_does_not_count_against_the_deadline() -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.5)
        send(handler, Reply(_feed(0, 1), "application/rss+xml"))

    def hop(handler: BaseHTTPRequestHandler) -> None:
        send(handler, Reply(status=302, headers={"Location": handler.path.replace("/r", "/slow")}))

    with serve({"/r": hop, "/slow": slow}) as server:
        # One request at a time to the host: after its redirect, the last source waits ~1.5 s
        # for its turn, longer than the deadline, though its requests take 0.5 s.
        policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=1.0, per_host=1)
        sources = [Source(f"s{n}", "feed", f"{server.base}/r?n={n}") for n in range(4)]
        results = crawl_sync(sources, policy)
    assert [r.error for r in results] == [None] * 4


def test_feed_html_becomes_lines_of_visible_text() -> None:
    assert html_to_text(
        "<p>One &amp; two<br>three</p><script>x()</script><style>p{}</style>four"
    ) == ("One & two\nthree\nfour")
    assert html_to_text("<ul><li>a<li>b</ul><!-- note -->c") == "a\nb\nc"
    assert html_to_text("plain   text\n here") == "plain text here"
    # lxml refuses a NUL byte inside markup it cannot encode; the bs4 fallback still reads it.
    assert "bad" in html_to_text("\x00bad<p>ok</p>")
