"""The lxml reader for RSS 2.0 and Atom 1.0 gives the articles feedparser's path gives."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.crawl import rss
from digest.crawl.feedxml import fast_entries
from digest.crawl.http import Fetched
from digest.errors import FeedError
from digest.models import Article, Source
from tests.conftest import SAMPLE_WEEK

SOURCE = Source("s", "feed", "https://example.com/feeds/feed.xml")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Content types servers send feeds with; text/xml without a charset is US-ASCII by RFC 3023.
TYPES = ("application/rss+xml", "text/xml; charset=utf-8", "text/xml", "application/xml")


def _fetched(body: bytes, content_type: str = "application/xml") -> Fetched:
    return Fetched("https://example.com/feeds/feed.xml", content_type, body, NOW)


def _by_feedparser(fetched: Fetched, monkeypatch: pytest.MonkeyPatch) -> tuple[Article, ...] | str:
    with monkeypatch.context() as m:
        m.setattr(rss, "fast_entries", lambda fetched: None)
        try:
            return rss.parse_feed(fetched, SOURCE)
        except FeedError as exc:
            return str(exc)


def _differences(fast: tuple[Article, ...], slow: tuple[Article, ...] | str) -> list[object]:
    if isinstance(slow, str):
        return [f"feedparser's path failed: {slow}"]
    if len(fast) != len(slow):
        return [f"{len(fast)} articles, feedparser's path {len(slow)}"]
    found: list[object] = []
    for a, b in zip(fast, slow, strict=True):
        da, db = asdict(a), asdict(b)
        found += [(a.url, k, da[k], db[k]) for k in da if da[k] != db[k]]
    return found


def _compare(files: list[Path], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, list[object]]:
    """(feeds read by the fast path, of them with articles, differences) over every type."""
    read = with_articles = 0
    differences: list[object] = []
    for path in files:
        for kind in TYPES:
            fetched = _fetched(path.read_bytes(), kind)
            entries = fast_entries(fetched)
            if entries is None:
                continue
            fast = rss._articles(entries, fetched, SOURCE, 200)
            read += 1
            with_articles += bool(fast)
            found = _differences(fast, _by_feedparser(fetched, monkeypatch))
            differences += [(path.name, kind, d) for d in found]
    return read, with_articles, differences


def test_the_sample_week_reads_the_same_through_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((SAMPLE_WEEK / "feeds").glob("*.xml"))
    _, with_articles, differences = _compare(files, monkeypatch)
    assert differences == []
    # Every RSS 2.0 and Atom 1.0 feed of the week but arXiv's (its own namespace) is fast.
    assert with_articles >= (len(files) - 1) * len(TYPES)


def test_the_peers_corpus_reads_the_same_through_both_paths(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = shared_data / "feed_parsing_corpus"
    files = sorted(p for p in corpus.rglob("*.xml") if p.is_file())
    read, with_articles, differences = _compare(files, monkeypatch)
    print(f"\n{len(files)} corpus files: {read} fast reads, {with_articles} with articles")
    assert differences == []
    assert read > 1000 and with_articles > 100


RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{ns}><channel><title>t</title>'
    "<item>{item}</item></channel></rss>"
)
ATOM = '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry>{item}</entry></feed>'


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('<rss version="0.91"><channel><item><link>/a</link></item></channel></rss>', "RSS 0.91"),
        (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/"><item><link>/a</link></item></rdf:RDF>',
            "RSS 1.0",
        ),
        (
            '<feed xmlns="http://purl.org/atom/ns#"><entry><link href="/a"/></entry></feed>',
            "Atom 0.3",
        ),
        (
            '<!DOCTYPE rss [<!ENTITY e "x">]><rss version="2.0"><channel><item>'
            "<title>&e;</title></item></channel></rss>",
            "entities",
        ),
        (RSS.format(ns="", item="<title>a <b>bold</b> move</title>"), "markup in a title"),
        (RSS.format(ns="", item="<title>a</title><title>b</title>"), "two titles"),
        (RSS.format(ns=' xml:base="https://other.example/"', item="<link>a</link>"), "xml:base"),
        (
            RSS.format(ns=' xmlns:media="http://search.yahoo.com/mrss/"', item="<media:title>x"
            "</media:title>"),
            "an element feedparser maps elsewhere",
        ),
        (ATOM.format(item='<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x'
                     "</div></title>"), "XHTML text"),
        (ATOM.format(item='<content type="image/png">aGk=</content>'), "base64 content"),
        ("<rss version='2.0'><channel><item><title>broken</ti", "not well-formed"),
    ],
)  # fmt: skip
def test_anything_the_fast_path_does_not_mirror_goes_to_feedparser(body: str, why: str) -> None:
    assert fast_entries(_fetched(body.encode())) is None, why


def test_the_fast_path_reads_only_utf8_as_feedparser_would() -> None:
    latin = RSS.format(ns="", item="<title>caf\xe9</title>").replace("utf-8", "iso-8859-1")
    assert fast_entries(_fetched(latin.encode("iso-8859-1"))) is None
    utf8 = RSS.format(ns="", item="<title>caf\xe9</title><link>/a</link>").encode()
    assert fast_entries(_fetched(utf8, "application/rss+xml; charset=windows-1252")) is None
    assert fast_entries(_fetched(utf8, "text/html")) is None
    assert fast_entries(_fetched(b"\xef\xbb\xbf" + utf8)) is None  # a byte-order mark
    entries = fast_entries(_fetched(utf8, "text/xml"))  # declared UTF-8 overrides US-ASCII
    assert entries is not None and entries[0]["title"] == "caf\xe9"


def test_the_fast_path_keeps_feedparsers_quirks(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        # A guid is the link when no <link> says otherwise; relative ones resolve.
        "<title>One</title><guid>/posts/1</guid>",
        "<title>Two</title><guid isPermaLink='false'>x</guid><link>/posts/2?a=1&amp;amp;b=2</link>",
        # Escaped markup in a plain-text RSS title is HTML; a lone ampersand is not.
        "<title>Three &amp;lt;b&amp;gt;x&amp;lt;/b&amp;gt; &amp; co</title><link>/3</link>"
        "<description>&lt;p&gt;short&lt;/p&gt;</description>"
        "<content:encoded>&lt;p&gt;the longer full text&lt;/p&gt;</content:encoded>",
        # UTF-8 decoded as Latin-1 and encoded again is repaired; cp1252 controls mapped.
        "<title>caf\xc3\xa9</title><link>/4</link><dc:creator>\x93Ann\x94</dc:creator>"
        "<dc:date>2025-07-07T10:00:00Z</dc:date><category> ai </category><category/>",
    ]
    body = RSS.format(
        ns=' xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"',
        item="</item><item>".join(items),
    ).encode()
    fetched = _fetched(body)
    entries = fast_entries(fetched)
    assert entries is not None and len(entries) == 4
    fast = rss._articles(entries, fetched, SOURCE, 200)
    assert _differences(fast, _by_feedparser(fetched, monkeypatch)) == []
    assert [a.url for a in fast][:2] == [
        "https://example.com/posts/1",
        "https://example.com/posts/2?a=1&b=2",
    ]
    assert fast[3].title == "caf\xe9" and fast[3].author == "\u201cAnn\u201d"
    assert fast[3].tags == ("ai",) and fast[2].summary == "the longer full text"
