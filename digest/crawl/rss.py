"""RSS and Atom sources: fetch the feed, then turn its entries into articles."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXParseException

import feedparser

from digest.crawl.http import Fetched, Fetcher
from digest.crawl.text import collapse_whitespace, html_to_text, one_line, truncate
from digest.crawl.urls import article_id, canonical_url
from digest.errors import FeedError
from digest.models import Article, Source

_SUMMARY_LIMIT = 2000
_MARKUP = re.compile(r"<(?:p|div|span|a|br|img|table|ul|li|em|strong|!--)[\s>/]", re.IGNORECASE)


async def read_feed(fetcher: Fetcher, source: Source) -> tuple[Article, ...]:
    """The articles a feed source lists right now."""
    return parse_feed(await fetcher.get(source.url), source)


def parse_feed(fetched: Fetched, source: Source) -> tuple[Article, ...]:
    """Articles from a fetched feed, first of each URL kept; FeedError when it is no feed."""
    # A stream, because feedparser opens a bytes argument as a local file name when it can.
    parsed = feedparser.parse(
        io.BytesIO(fetched.body),
        response_headers={"content-type": fetched.content_type, "content-location": fetched.url},
    )
    if parsed.bozo and not parsed.entries:
        raise FeedError(_not_a_feed(fetched, parsed.get("bozo_exception")))
    articles: dict[str, Article] = {}
    for entry in parsed.entries:
        article = _article(entry, fetched, source)
        if article is not None and article.url not in articles:
            articles[article.url] = article
    return tuple(articles.values())


def _article(entry: Mapping[str, Any], fetched: Fetched, source: Source) -> Article | None:
    link = entry.get("link")
    if not link:
        return None
    try:
        url = canonical_url(urljoin(fetched.url, link))
    except ValueError:
        return None  # a mailto: or javascript: link is nothing a reader should open
    title = _title(entry)
    summary = truncate(_summary(entry), _SUMMARY_LIMIT)
    return Article(
        id=article_id(url),
        url=url,
        title=title,
        summary=summary,
        source=source.name,
        published_at=_published(entry) or fetched.fetched_at,
        content_hash=hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest(),
        author=one_line(entry.get("author") or ""),
    )


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


def _not_a_feed(fetched: Fetched, problem: object) -> str:
    if isinstance(problem, SAXParseException):
        # feedparser puts a line with an XML declaration in front of a body that lacks one.
        line = (problem.getLineNumber() or 1) - (0 if b"<?xml" in fetched.body[:100] else 1)
        reason = f"not well-formed XML at line {max(line, 1)}: {problem.getMessage()}"
    else:
        reason = str(problem) or "no RSS or Atom entries in it"
    if fetched.content_type.split(";")[0].strip().lower() == "text/html":
        hint = "it is a web page; use the address of the page's RSS or Atom feed in sources.yaml"
    else:
        hint = "check the URL in sources.yaml"
    return f"{fetched.url} did not return a feed ({reason}); {hint}"
