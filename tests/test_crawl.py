"""The crawl stage against a real HTTP server on 127.0.0.1 serving real feed files."""

from __future__ import annotations

import gzip
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from digest.crawl import FetchPolicy, SourceResult, crawl_sync
from digest.crawl.http import Fetched
from digest.crawl.rss import parse_feed
from digest.errors import FeedError
from digest.models import Source

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Example AI blog</title>
  <link>https://example.com/</link>
  <description>News</description>
  <item>
    <title>New model &lt;b&gt;released&lt;/b&gt; &amp;amp;   benchmarked</title>
    <link>http://www.example.com/ai/model-release/?utm_source=rss&amp;utm_medium=feed#comments</link>
    <description><![CDATA[<p>The lab released a model.</p><script>alert("pwned")</script>
      <style>p { color: red }</style><p>It beats the old one &amp; costs less.</p>]]></description>
    <pubDate>Mon, 07 Jul 2025 10:00:00 +0200</pubDate>
    <author>jane@example.com (Jane Doe)</author>
  </item>
  <item>
    <title>Same article, another link</title>
    <link>https://example.com/ai/model-release</link>
    <pubDate>Mon, 07 Jul 2025 11:00:00 +0000</pubDate>
  </item>
  <item>
    <title>An item with no link is skipped</title>
    <description>Nothing to open.</description>
  </item>
  <item>
    <title>A relative link and no date</title>
    <link>/ai/relative</link>
    <description>Short teaser.</description>
    <content:encoded><![CDATA[<p>The full text is longer than the teaser.</p>
      <p>LONG_BODY</p>]]></content:encoded>
  </item>
</channel>
</rss>
""".replace("LONG_BODY", "word " * 1000)

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example research feed</title>
  <id>urn:example:feed</id>
  <updated>2025-07-08T09:30:00Z</updated>
  <entry>
    <title type="text">Why &lt;div&gt; soup still matters</title>
    <link rel="alternate" href="https://m.example.org/papers/42/amp"/>
    <id>urn:example:42</id>
    <updated>2025-07-08T09:30:00-04:00</updated>
    <author><name>Ada Lovelace</name></author>
    <summary type="html">&lt;p&gt;A paper about &lt;em&gt;parsing&lt;/em&gt;.&lt;/p&gt;</summary>
  </entry>
</feed>
"""

GARBAGE = b"<html><head><title>Blog</title></head>\n<body>\n<p>Welcome</div></body></html>"


class _Handler(SimpleHTTPRequestHandler):
    """Serves the feed files, plus a few paths that misbehave on purpose."""

    user_agents: ClassVar[list[str]] = []
    in_flight: ClassVar[list[int]] = [0]  # requests being served now, and the most seen at once
    most_in_flight: ClassVar[list[int]] = [0]
    lock = threading.Lock()

    def do_GET(self) -> None:
        self.user_agents.append(self.headers.get("User-Agent", ""))
        special = {
            "/garbage": self._garbage,
            "/error": partial(self.send_error, 500),
            "/drip": self._drip,
            "/bomb": self._bomb,
            "/to-file": partial(self._redirect, "file:///etc/passwd"),
            "/moved": partial(self._redirect, "/rss.xml"),
            "/loop": partial(self._redirect, "/loop"),
            "/slow": self._slow,
        }.get(self.path)
        if special is None:
            super().do_GET()
        else:
            special()

    def _garbage(self) -> None:
        self._headers(200, "text/html; charset=utf-8", len(GARBAGE))
        self.wfile.write(GARBAGE)

    def _slow(self) -> None:
        with self.lock:
            self.in_flight[0] += 1
            self.most_in_flight[0] = max(self.most_in_flight[0], self.in_flight[0])
        time.sleep(0.2)
        with self.lock:
            self.in_flight[0] -= 1
        self._headers(200, "application/atom+xml", len(ATOM.encode()))
        self.wfile.write(ATOM.encode())

    def _drip(self) -> None:
        self._headers(200, "application/rss+xml", 1000)
        try:
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the client hung up, as it should

    def _bomb(self) -> None:
        body = gzip.compress(b"<rss>" + b" " * 2_000_000 + b"</rss>")
        self._headers(200, "application/rss+xml", len(body), {"Content-Encoding": "gzip"})
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._headers(302, "text/plain", 0, {"Location": location})

    def _headers(
        self, status: int, content_type: str, length: int, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server on 127.0.0.1 serving rss.xml and atom.xml."""
    root = tmp_path_factory.mktemp("site")
    (root / "rss.xml").write_text(RSS, encoding="utf-8")
    (root / "atom.xml").write_text(ATOM, encoding="utf-8")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _policy(**overrides: object) -> FetchPolicy:
    settings: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "deadline": 3.0,
        "max_bytes": 1024 * 1024,
        "allowed_hosts": frozenset({"127.0.0.1"}),
    }
    return FetchPolicy(**(settings | overrides))  # type: ignore[arg-type]


def _feed(url: str, name: str = "feed") -> Source:
    return Source(name=name, kind="feed", url=url)


def _crawl_one(url: str, **overrides: object) -> SourceResult:
    (result,) = crawl_sync([_feed(url)], _policy(**overrides))
    return result


def test_rss_entries_become_articles(server: str) -> None:
    before = datetime.now(UTC)
    result = _crawl_one(f"{server}/rss.xml")

    assert result.ok, result.error
    first, relative = result.articles  # duplicate link and linkless item dropped
    assert first.url == "https://example.com/ai/model-release"
    assert first.title == "New model released & benchmarked"
    assert first.summary == "The lab released a model.\nIt beats the old one & costs less."
    assert first.published_at == datetime(2025, 7, 7, 8, 0, tzinfo=UTC)
    assert first.author == "jane@example.com (Jane Doe)"
    assert first.source == "feed"

    assert relative.url == f"{server}/ai/relative"
    assert relative.summary.startswith("The full text is longer than the teaser.\nword word")
    assert len(relative.summary) <= 2000
    assert relative.summary.endswith("word…")
    assert relative.published_at >= before  # no date in the feed: when we fetched it


def test_atom_entries_become_articles(server: str) -> None:
    result = _crawl_one(f"{server}/atom.xml")

    assert result.ok, result.error
    (paper,) = result.articles
    assert paper.url == "https://example.org/papers/42"
    assert paper.title == "Why <div> soup still matters"  # type="text": the tag is the title
    assert paper.summary == "A paper about parsing."
    assert paper.published_at == datetime(2025, 7, 8, 13, 30, tzinfo=UTC)
    assert paper.published_at.utcoffset() is not None
    assert paper.author == "Ada Lovelace"


def test_articles_are_identified_by_their_canonical_url(server: str) -> None:
    first = _crawl_one(f"{server}/rss.xml").articles
    second = _crawl_one(f"{server}/rss.xml").articles
    assert [a.id for a in first] == [a.id for a in second]
    assert [a.content_hash for a in first] == [a.content_hash for a in second]
    assert len({a.id for a in first}) == len(first)


def test_the_user_agent_is_sent(server: str) -> None:
    _Handler.user_agents.clear()
    _crawl_one(f"{server}/rss.xml", user_agent="digest-test/1.0")
    assert _Handler.user_agents == ["digest-test/1.0"]


def test_redirects_are_followed_and_links_resolve_against_the_final_url(server: str) -> None:
    result = _crawl_one(f"{server}/moved")
    assert result.ok, result.error
    assert f"{server}/ai/relative" in [a.url for a in result.articles]


def test_a_failing_source_does_not_stop_the_others(server: str) -> None:
    sources = [
        _feed(f"{server}/error", "broken"),
        _feed(f"{server}/rss.xml", "good"),
        _feed(f"{server}/garbage", "web page"),
        _feed(f"{server}/missing.xml", "gone"),
        Source(name="forum", kind="gopher", url=f"{server}/rss.xml"),
        _feed(f"{server}/atom.xml", "also good"),
    ]
    done: list[str] = []
    results = crawl_sync(sources, _policy(), on_done=lambda r: done.append(r.source.name))

    assert [r.source for r in results] == sources
    assert sorted(done) == sorted(s.name for s in sources)
    broken, good, page, gone, forum, also_good = results
    assert good.ok and len(good.articles) == 2
    assert also_good.ok and len(also_good.articles) == 1
    assert broken.error is not None and "answered 500" in broken.error
    assert not broken.articles
    assert page.error == (
        f"{server}/garbage did not return a feed (not well-formed XML at line 3: mismatched tag); "
        "it is a web page; use the address of the page's RSS or Atom feed in sources.yaml"
    )
    assert gone.error is not None and "answered 404" in gone.error and "moved" in gone.error
    assert forum.error == "source kind 'gopher' is not supported yet"


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_bounds_the_requests_in_flight(server: str, concurrency: int) -> None:
    _Handler.most_in_flight[0] = 0
    sources = [_feed(f"{server}/slow", f"slow {n}") for n in range(3)]
    results = crawl_sync(sources, _policy(concurrency=concurrency, per_host=3))
    assert all(r.ok for r in results)
    assert _Handler.most_in_flight[0] == concurrency


def test_the_deadline_cuts_a_server_that_drips_bytes(server: str) -> None:
    started = time.monotonic()
    result = _crawl_one(f"{server}/drip", deadline=1.0, read_timeout=5.0)
    assert time.monotonic() - started < 2.5
    assert result.error is not None
    assert "took longer than 1 s" in result.error and "crawl.deadline" in result.error


def test_the_size_cap_counts_decompressed_bytes(server: str) -> None:
    result = _crawl_one(f"{server}/bomb", max_bytes=64 * 1024)
    assert result.error == (
        f"{server}/bomb is larger than 64 KiB; "
        "raise crawl.max_bytes in digest.toml if this source is legitimate"
    )


def test_a_redirect_to_a_file_url_is_refused(server: str) -> None:
    result = _crawl_one(f"{server}/to-file")
    assert result.error is not None
    assert result.error == (
        f"refused to follow {server}/to-file to file:///etc/passwd: only http and https URLs "
        "are fetched, so this feed cannot be read"
    )


def test_a_redirect_loop_is_cut(server: str) -> None:
    result = _crawl_one(f"{server}/loop", max_redirects=3)
    assert result.error is not None and "redirected more than 3 times" in result.error


def test_loopback_is_refused_unless_allowed(server: str) -> None:
    refused = _crawl_one(f"{server}/rss.xml", allowed_hosts=frozenset())
    assert refused.error is not None
    assert "127.0.0.1, a loopback address" in refused.error
    assert f"add '{server}' to crawl.allowed_hosts" in refused.error

    allowed = _crawl_one(f"{server}/rss.xml", allowed_hosts=frozenset({"127.0.0.1"}))
    assert allowed.ok and allowed.articles


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://localhost/feed", "loopback"),
        ("http://[::1]/feed", "loopback"),
        ("http://[::ffff:127.0.0.1]/feed", "loopback"),
        ("http://10.1.2.3/feed", "private"),
        ("http://192.168.0.1/feed", "private"),
        ("http://[fd00::1]/feed", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://100.64.0.1/feed", "carrier-grade NAT"),
        ("http://0.0.0.0/feed", "unspecified"),
        ("http://224.0.0.1/feed", "multicast"),
        ("http://240.0.0.1/feed", "reserved"),
    ],
)
def test_non_public_addresses_are_refused_before_connecting(url: str, kind: str) -> None:
    result = _crawl_one(url, allowed_hosts=frozenset())
    assert result.error is not None and f", a {kind} address" in result.error


def test_a_closed_port_says_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _crawl_one(f"http://127.0.0.1:{port}/feed")
    assert result.error == (
        f"connection refused by 127.0.0.1:{port} — is the site down? Check the URL in sources.yaml"
    )


def test_an_unknown_host_says_it_could_not_be_resolved() -> None:
    result = _crawl_one("http://no-such-host.invalid/feed")
    assert result.error is not None
    assert "could not resolve host 'no-such-host.invalid'" in result.error


def test_only_web_urls_are_fetched() -> None:
    result = _crawl_one("file:///etc/passwd")
    assert result.error is not None and "only http and https" in result.error


_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feed_parsing_corpus"


def test_real_world_feeds_give_clean_articles() -> None:
    files = sorted((_CORPUS / "rss-parser").rglob("*.*")) if _CORPUS.is_dir() else []
    feeds = [path for path in files if path.suffix in (".rss", ".atom")]
    if not feeds:
        pytest.skip(f"feed corpus not found at {_CORPUS}; it lives in the shared data folder")
    fetched_at = datetime(2025, 7, 1, tzinfo=UTC)
    articles, not_feeds = 0, 0
    for path in feeds:
        fetched = Fetched("https://feeds.example.com/feed", "", path.read_bytes(), fetched_at)
        try:
            parsed = parse_feed(fetched, _feed(fetched.url))
        except FeedError as exc:
            assert "did not return a feed" in str(exc)
            not_feeds += 1
            continue
        for article in parsed:
            articles += 1
            assert article.url.startswith(("https://", "http://")), path
            assert article.title == " ".join(article.title.split()), path
            assert not re.search(r"<(p|div|a|br|script|style)\b", article.summary), path
            assert len(article.summary) <= 2000, path
            assert article.published_at.tzinfo is UTC, path
    assert articles > 100 and not_feeds <= 2
