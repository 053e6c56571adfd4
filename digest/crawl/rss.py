"""The `feed` source kind: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 (lxml or feedparser) and JSON Feed."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from xml.sax import SAXException, SAXParseException

import feedparser

from digest.crawl.articles import make_article, unique
from digest.crawl.charset import repaired
from digest.crawl.expat import refuse_huge_tokens
from digest.crawl.feedxml import fast_entries
from digest.crawl.http import Fetched
from digest.crawl.jsonfeed import is_json_feed, parse_json_feed
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.parsing import Parsed, off_loop
from digest.crawl.text import collapse_whitespace, html_to_text, one_line
from digest.crawl.visit import Visit
from digest.errors import FeedError
from digest.models import Article, Source

_MARKUP = re.compile(r"<(?:p|div|span|a|br|img|table|ul|li|em|strong|!--)[\s>/]", re.IGNORECASE)
_OLDEST = datetime(1970, 1, 1, tzinfo=UTC)


async def read_feed(visit: Visit, source: Source) -> Sequence[Article]:
    """The articles a feed source lists right now (none when it answers 304)."""
    fetched = await visit.get(source.url)
    if fetched.not_modified:
        return ()
    parsed = await off_loop(salvage_feed, fetched, source)
    for warning in parsed.warnings:
        visit.warn(warning)
    return parsed.articles


def parse_feed(fetched: Fetched, source: Source) -> Sequence[Article]:
    """The newest `max_items` articles of a fetched feed; FeedError when it is no feed."""
    return salvage_feed(fetched, source).articles


def salvage_feed(fetched: Fetched, source: Source) -> Parsed:
    """`parse_feed`'s articles, and what was wrong with the feed if they were salvaged from
    a faulty one (bad bytes, forbidden characters, XML cut off or malformed)."""
    limit = int(source.params.get("max_items", 200))
    if is_json_feed(fetched):
        return Parsed(parse_json_feed(fetched, source, limit))
    fetched, repairs = repaired(fetched)
    warnings = tuple(repairs)
    entries = fast_entries(fetched)
    if entries is not None:
        return Parsed(_articles(entries, fetched, source, limit), warnings)
    refuse_huge_tokens(fetched)
    # A stream, because feedparser opens a bytes argument as a local file name when it can.
    # Sanitising is off: every title and summary is turned into plain text below anyway.
    parsed = feedparser.parse(
        io.BytesIO(fetched.body),
        response_headers={"content-type": fetched.content_type, "content-location": fetched.url},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = parsed.get("bozo_exception")
    if parsed.bozo and not parsed.entries:
        raise FeedError(_not_a_feed(fetched, problem))
    articles = _articles(parsed.entries, fetched, source, limit)
    if isinstance(problem, SAXException):
        if not articles:
            # feedparser's loose parser "recovers" broken XML into entries that hold no link.
            raise FeedError(_not_a_feed(fetched, problem))
        warnings += (
            f"{fetched.url} is cut off or malformed ({_reason(fetched, problem)}); "
            f"{len(articles)} items were salvaged from it",
        )
    return Parsed(articles, warnings)


def _articles(
    entries: Sequence[Mapping[str, Any]], fetched: Fetched, source: Source, limit: int
) -> tuple[Article, ...]:
    dated = [(_published(e), i, e) for i, e in enumerate(entries)]
    # The newest `limit` (undated ones after dated, in feed order) are kept and converted,
    # in feed order, so that a feed's first listing of a URL is the one kept.
    dated.sort(key=lambda d: (d[0] or _OLDEST, -d[1]), reverse=True)
    kept = sorted(dated[:limit], key=lambda d: d[1])
    return unique(_article(e, when, fetched, source) for when, _, e in kept)


def _article(
    entry: Mapping[str, Any], when: datetime | None, fetched: Fetched, source: Source
) -> Article | None:
    link = entry.get("link")
    if not link:
        return None
    return make_article(
        source,
        link,
        _title(entry),
        _summary(entry),
        when,
        fetched.fetched_at,
        base=fetched.url,
        author=entry.get("author") or "",
        guid=entry.get("id") or "",
        tags=[t.get("term") or "" for t in entry.get("tags") or []],
        discussion_url=_thread(entry),
    )


_THREAD = re.compile(
    r"^https?://(?:news\.ycombinator\.com/item\?id=\d+|lobste\.rs/s/\w+|"
    r"(?:www\.|old\.)?reddit\.com/r/\w+/comments/)"
)


def _thread(entry: Mapping[str, Any]) -> str:
    """The item's forum thread (an HN, Lobsters or Reddit feed's <comments>), else ''."""
    comments = str(entry.get("comments") or "").strip()
    return comments if _THREAD.match(comments) else ""


def _title(entry: Mapping[str, Any]) -> str:
    title = entry.get("title") or ""
    if entry.get("title_detail", {}).get("type") == "text/plain":
        return collapse_whitespace(title)
    return one_line(title)


def _summary(entry: Mapping[str, Any]) -> str:
    summary = _plain(entry.get("summary") or "")
    contents = entry.get("content") or []
    content = _plain(contents[0].get("value") or "") if contents else ""
    return content if len(content) > len(summary) else summary


def _plain(html: str) -> str:
    text = html_to_text(html)
    # Some feeds (Reddit's among them) escape their HTML twice, so markup survives one pass.
    return html_to_text(text) if _MARKUP.search(text) else text


def _published(entry: Mapping[str, Any]) -> datetime | None:
    """When the entry was published (or last updated), in UTC; None when it does not say."""
    # `in` first: feedparser answers a missing updated_parsed with a DeprecationWarning.
    for parsed in [entry[key] for key in ("published_parsed", "updated_parsed") if key in entry]:
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError:
                continue  # feedparser keeps impossible dates such as a 31 February
    return None


def _reason(fetched: Fetched, problem: object) -> str:
    if isinstance(problem, SAXParseException):
        # feedparser puts a line with an XML declaration in front of a body that lacks one.
        line = (problem.getLineNumber() or 1) - (0 if b"<?xml" in fetched.body[:100] else 1)
        return f"not well-formed XML at line {max(line, 1)}: {problem.getMessage()}"
    return str(problem) or "no RSS or Atom entries in it"


def _not_a_feed(fetched: Fetched, problem: object) -> str:
    reason = _reason(fetched, problem)
    if fetched.content_type.split(";")[0].strip().lower() == "text/html":
        hint = "it is a web page; use the address of the page's RSS or Atom feed in sources.yaml"
    else:
        hint = "check the URL in sources.yaml"
    return f"{fetched.url} did not return a feed ({reason}); {hint}"


class FeedEntry(SourceEntry):
    """RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed."""

    kind: Literal["feed"]
    url: str
    full_text: bool = True


KIND = declare("feed", FeedEntry, read_feed)
