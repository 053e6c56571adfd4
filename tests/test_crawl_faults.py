"""The crawler against servers on 127.0.0.x that misbehave: slow, huge, hostile, or wrong."""

from __future__ import annotations

import gzip
import itertools
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import pytest

from digest import pipeline
from digest.crawl import FetchPolicy, SourceResult, crawl_sync
from digest.crawl.decode import BodyDecoder, TooLarge
from digest.crawl.http import retry_after
from digest.models import Source
from digest.store import Store
from digest.urls import canonical_id
from tests.loopback import Reply, Server, drip, send, serve

try:
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd

MiB = 1024 * 1024


def _rss(items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{declaration}\n<rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.com/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def _item(n: int, date: str = "Mon, 07 Jul 2025 10:00:00 +0000", guid: str = "") -> str:
    return (
        f"<item><title>Item {n}</title><link>https://example.com/post/{n}</link>"
        f"<guid>{guid or f'urn:item:{n}'}</guid><pubDate>{date}</pubDate></item>"
    )


def _policy(**overrides: object) -> FetchPolicy:
    settings: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "deadline": 3.0,
        "max_bytes": MiB,
        "retry_wait": 3.0,
        "allowed_hosts": frozenset({"127.0.0.1"}),
    }
    return FetchPolicy(**(settings | overrides))  # type: ignore[arg-type]


def _one(url: str, **overrides: object) -> SourceResult:
    params = overrides.pop("params", {})
    source = Source("feed", "feed", url, params=params)  # type: ignore[arg-type]
    (result,) = crawl_sync([source], _policy(**overrides))
    return result


class _Flaky:
    """Answers 429 (or 503) with a Retry-After the first time, then the feed."""

    def __init__(self, status: int, after: str) -> None:
        self.status, self.after, self.calls = status, after, 0

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        self.calls += 1
        if self.calls == 1:
            send(
                handler,
                Reply(b"slow down", status=self.status, headers={"Retry-After": self.after}),
            )
        else:
            send(handler, Reply(_rss(_item(1)), "application/rss+xml"))


def _endless(handler: BaseHTTPRequestHandler, with_length: bool) -> None:
    """50 MB of feed-looking bytes, with or without a Content-Length."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    if with_length:
        handler.send_header("Content-Length", str(50 * MiB))
    else:
        handler.send_header("Connection", "close")
    handler.end_headers()
    try:
        handler.wfile.write(b"<rss>")
        for _ in range(50 * 16):
            handler.wfile.write(b" " * (64 * 1024))
    except OSError:
        pass  # the crawler hung up at the cap
    handler.close_connection = True


ZEROS = 64 * MiB
BOMBS = {
    "gzip": gzip.compress(b"\0" * ZEROS, compresslevel=9),
    "br": brotli.compress(b"\0" * ZEROS, quality=1),
    "zstd": zstd.compress(b"\0" * ZEROS),
}


@pytest.fixture(scope="module")
def sentinel() -> Iterator[Server]:
    """A server on 127.0.0.2 that nothing may ever reach."""
    with serve({"/": Reply(b"secret")}, host="127.0.0.2") as server:
        yield server


@pytest.fixture(scope="module")
def site(sentinel: Server) -> Iterator[Server]:
    port = sentinel.base.rsplit(":", 1)[1]
    big = ("<p>" + "x" * 100 + "</p>") * 20
    hostile = _rss(
        "<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Hello</title>"
        "<link>javascript:alert(document.cookie)</link></item>"
        "<item><title>Clean <b>title</b></title><link>https://example.com/ok</link>"
        f"<description><![CDATA[<p>Text</p><script>alert(2)</script>"
        f'<a href="javascript:alert(3)">click</a>{big}]]></description></item>'
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        + b']><rss version="2.0"><channel><title>t</title><item><title>&i;</title>'
        b"<link>https://example.com/laughs</link></item></channel></rss>"
    )
    latin = _rss(
        "<item><title>Caf\u00e9 na\u00efve r\u00e9sum\u00e9</title>"
        "<link>https://example.com/cafe</link></item>",
        '<?xml version="1.0" encoding="iso-8859-1"?>',
    ).replace(b"utf-8", b"iso-8859-1")
    latin = latin.decode("utf-8").encode("iso-8859-1")
    now = datetime.now(UTC)
    many = "".join(
        _item(n, format_datetime(now - timedelta(minutes=10_000 - n))) for n in range(10_000)
    )
    routes = {
        "/to-sentinel": Reply(status=302, headers={"Location": f"http://127.0.0.2:{port}/"}),
        "/to-localhost": Reply(status=302, headers={"Location": f"http://localhost:{port}/"}),
        "/to-integer": Reply(status=301, headers={"Location": f"http://2130706434:{port}/"}),
        "/to-mapped": Reply(status=307, headers={"Location": f"http://[::ffff:127.0.0.2]:{port}/"}),
        "/to-gopher": Reply(status=302, headers={"Location": "gopher://example.com/"}),
        "/loop": Reply(status=302, headers={"Location": "/loop"}),
        "/drip": lambda h: drip(h, 8.0, every=0.4),
        "/big-with-length": lambda h: _endless(h, True),
        "/big-without-length": lambda h: _endless(h, False),
        "/broken.xml": Reply(b"<rss><channel><item><title>x</ti", "application/rss+xml"),
        "/page.html": Reply(b"<html><body><p>Hi</p></body></html>", "text/html; charset=utf-8"),
        "/latin-no-charset": Reply(latin, "application/rss+xml"),
        "/latin-wrong-charset": Reply(latin, "application/rss+xml; charset=utf-8"),
        "/one-guid": Reply(_rss("".join(_item(n, guid="same") for n in range(5)))),
        "/dates": Reply(
            _rss(
                "<item><title>No date</title><link>https://example.com/undated</link></item>"
                + _item(1, "Sat, 01 Jan 2099 00:00:00 +0000")
                + _item(2, "not a date at all")
            ),
            "application/rss+xml",
        ),
        "/many": Reply(_rss(many), "application/rss+xml"),
        "/hostile": Reply(hostile, "application/rss+xml"),
        "/laughs": Reply(laughs, "application/rss+xml"),
        **{
            f"/bomb-{name}": Reply(body, "application/rss+xml", headers={"Content-Encoding": name})
            for name, body in BOMBS.items()
        },
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        yield server


def test_a_server_that_never_answers_is_cut_by_the_read_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever answers
        started = time.monotonic()
        result = _one(f"http://127.0.0.1:{silent.getsockname()[1]}/feed", read_timeout=0.5)
    assert time.monotonic() - started < 2
    assert result.error is not None and "sent nothing for 0.5 s" in result.error


def test_a_slow_drip_is_cut_at_the_deadline(site: Server) -> None:
    started = time.monotonic()
    result = _one(f"{site.base}/drip", deadline=1.0, read_timeout=5.0)
    assert time.monotonic() - started < 2.5
    assert result.error is not None and "took longer than 1 s" in result.error


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_waited_out_then_retried(form: str) -> None:
    after = "1" if form == "seconds" else format_datetime(datetime.now(UTC) + timedelta(seconds=2))
    flaky = _Flaky(429, after)
    with serve({"/feed": flaky}) as server:
        started = time.monotonic()
        result = _one(f"{server.base}/feed")
    assert result.ok, result.error
    assert flaky.calls == 2 and time.monotonic() - started >= 0.9


def test_a_long_retry_after_fails_the_source_and_says_when() -> None:
    with serve({"/feed": _Flaky(503, "86400")}) as server:
        result = _one(f"{server.base}/feed", max_retry_after=3600.0)
    assert result.error is not None and "asked us to wait 3600 s" in result.error
    assert result.retry_after == 3600.0


def test_retry_after_values() -> None:
    assert retry_after("120", 60) == 60
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) == 0  # in the past
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= (retry_after(soon, 60) or 0) <= 30
    assert retry_after("soon", 60) is None


def test_a_redirect_loop_is_cut(site: Server) -> None:
    result = _one(f"{site.base}/loop", max_redirects=4)
    assert result.error is not None and "redirected more than 4 times" in result.error


@pytest.mark.parametrize("path", ["/to-sentinel", "/to-localhost", "/to-integer", "/to-mapped"])
def test_a_redirect_to_a_loopback_address_never_reaches_it(
    site: Server, sentinel: Server, path: str
) -> None:
    result = _one(f"{site.base}{path}")
    assert result.error is not None and "a loopback address" in result.error
    assert "crawl.allowed_hosts" in result.error
    assert sentinel.requests == []


def test_a_redirect_to_another_scheme_is_refused(site: Server) -> None:
    result = _one(f"{site.base}/to-gopher")
    assert result.error is not None and "only http and https" in result.error


@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://0x7f.0.0.1/", "http://017700000001/", "http://127.1/"]
)
def test_numeric_forms_of_loopback_are_refused(url: str) -> None:
    result = _one(url, allowed_hosts=frozenset())
    assert result.error is not None and "a loopback address" in result.error, result.error


@pytest.mark.parametrize("path", ["/big-with-length", "/big-without-length"])
def test_a_50_mb_body_is_refused_at_the_cap(site: Server, path: str) -> None:
    started = time.monotonic()
    result = _one(f"{site.base}{path}")
    assert result.error == (
        f"{site.base}{path} is larger than 1 MiB; "
        "raise crawl.max_bytes in digest.toml if this source is legitimate"
    )
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_a_compression_bomb_stops_at_the_cap(site: Server, encoding: str) -> None:
    result = _one(f"{site.base}/bomb-{encoding}")
    assert result.error is not None and "is larger than 1 MiB" in result.error


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_decoding_a_bomb_never_holds_more_than_the_cap(encoding: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            BodyDecoder(encoding, MiB).decode(BOMBS[encoding])  # the whole bomb at once
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"{encoding}: {peak / MiB:.1f} MiB held"


def test_decoding_round_trips_every_encoding() -> None:
    text = b"<rss>" + b"hello " * 10_000 + b"</rss>"
    for name, packed in {
        "gzip": gzip.compress(text),
        "br": brotli.compress(text),
        "zstd": zstd.compress(text),
        "deflate": __import__("zlib").compress(text),
        "gzip, br": brotli.compress(gzip.compress(text)),
    }.items():
        decoder = BodyDecoder(name, MiB)
        out = b"".join(decoder.decode(packed[i : i + 1000]) for i in range(0, len(packed), 1000))
        assert out == text, name


def test_malformed_xml_is_a_readable_error_or_recovered(site: Server) -> None:
    result = _one(f"{site.base}/broken.xml")
    assert result.error is None or "did not return a feed" in result.error


def test_a_web_page_served_as_a_feed_is_named(site: Server) -> None:
    result = _one(f"{site.base}/page.html")
    assert result.error is not None and "it is a web page" in result.error


@pytest.mark.parametrize("path", ["/latin-no-charset", "/latin-wrong-charset"])
def test_wrong_or_missing_charset(site: Server, path: str) -> None:
    result = _one(f"{site.base}{path}")
    assert result.ok, result.error
    (article,) = result.articles
    assert article.title.startswith("Caf") and "\ufffd" not in article.title[:3]
    if path == "/latin-no-charset":
        assert article.title == "Café naïve résumé"


def test_items_sharing_one_guid_stay_apart(site: Server) -> None:
    result = _one(f"{site.base}/one-guid")
    assert len(result.articles) == 5 and len({a.url for a in result.articles}) == 5


def test_missing_and_future_dates_become_the_fetch_time(site: Server) -> None:
    before = datetime.now(UTC)
    result = _one(f"{site.base}/dates")
    assert len(result.articles) == 3
    for article in result.articles:
        assert before - timedelta(seconds=1) <= article.published_at <= datetime.now(UTC)


def test_a_10000_item_feed_keeps_the_newest_in_bounded_time(site: Server) -> None:
    started = time.monotonic()
    result = _one(f"{site.base}/many", params={"max_items": 200}, deadline=30.0, max_bytes=8 * MiB)
    elapsed = time.monotonic() - started
    assert result.ok, result.error
    assert len(result.articles) == 200
    assert {a.title for a in result.articles} == {f"Item {n}" for n in range(9800, 10_000)}
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_script_and_javascript_links_stay_data(site: Server) -> None:
    result = _one(f"{site.base}/hostile")
    (article,) = result.articles  # the javascript: link is no article
    assert article.title == "Clean title"
    assert "alert" not in article.summary and "<" not in article.summary
    assert article.summary.startswith("Text\nclick\nxxx")


def test_entity_expansion_is_refused(site: Server) -> None:
    started = time.monotonic()
    result = _one(f"{site.base}/laughs")
    assert time.monotonic() - started < 5
    assert all(len(a.title) < 10_000 for a in result.articles)


def test_per_host_slots_and_delay() -> None:
    lock, state = threading.Lock(), {"now": 0, "most": 0}
    starts: list[float] = []

    def slow(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            starts.append(time.monotonic())
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        send(handler, Reply(_rss(_item(1)), "application/rss+xml"))

    with serve({"/feed": slow}) as server:
        sources = [Source(f"s{n}", "feed", f"{server.base}/feed") for n in range(5)]
        results = crawl_sync(sources, _policy(concurrency=8, per_host=2))
        assert all(r.ok for r in results) and state["most"] == 2
        starts.clear()
        crawl_sync(sources[:3], _policy(per_host=2, host_delay=0.25))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.2 for gap in gaps), gaps


def test_the_user_agent_names_digest_and_its_url() -> None:
    with serve({"/feed": Reply(_rss(_item(1)), "application/rss+xml")}) as server:
        _one(f"{server.base}/feed")
        agent = server.hits("/feed")[0]["User-Agent"]
    assert agent.startswith("digest/") and "https://" in agent


def test_compressed_article_pages_never_inflate_past_the_cap(tmp_path: Path) -> None:
    """Pages sent compressed without saying so: the extractor must not inflate them."""
    brotli_bomb = brotli.compress(b"\0" * 19_000_000)  # trafilatura's own cap is 20 MB
    article = (Path(__file__).parent / "data" / "crawl" / "article.html").read_bytes()
    routes: dict[str, Reply] = {
        f"/page/{n}": Reply(brotli_bomb, "text/html; charset=utf-8") for n in range(20)
    }
    routes["/gzipped"] = Reply(gzip.compress(article), "text/html; charset=utf-8")
    routes["/gzip-bomb"] = Reply(BOMBS["gzip"], "text/html")
    with serve(routes) as server:  # type: ignore[arg-type]
        items = "".join(
            f"<item><title>Page {p}</title><link>{server.base}{p}</link></item>" for p in routes
        )
        routes["/feed"] = Reply(_rss(items), "application/rss+xml")
        store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        tracemalloc.start()
        try:
            pipeline.crawl([source], store, _policy(deadline=10.0), full_text_pages=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    pages = {
        a.title: a
        for a in store.articles_by_id([canonical_id(f"{server.base}{p}") for p in routes])
    }
    assert peak < 24 * MiB, f"{peak / MiB:.0f} MiB held"
    assert pages["Page /gzipped"].text_status == "full"  # unwrapped by its magic number
    assert pages["Page /gzip-bomb"].text_status == "failed"
    assert all(pages[f"Page /page/{n}"].text_status != "full" for n in range(20))
