"""Building articles from what any source kind lists: canonical URL, clean text, sane date."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from digest.crawl.text import html_to_text, one_line, truncate
from digest.models import Article, Source
from digest.urls import canonical_id, canonical_url

SUMMARY_LIMIT = 2000
_FUTURE_SLACK = timedelta(days=1)
# Nothing a source lists was published before the web began (1991; arXiv's first paper came
# that August). Earlier dates are software defaults: the Unix epoch, 1900, the year 1.
WEB_BEGAN = datetime(1991, 1, 1, tzinfo=UTC)


def make_article(
    source: Source,
    link: str,
    title: str,
    summary: str,
    published_at: datetime | None,
    fetched_at: datetime,
    *,
    base: str = "",
    author: str = "",
    guid: str = "",
    tags: Iterable[str] = (),
    pdf_url: str = "",
    discussion_url: str = "",
    score: int = 0,
    comments: int = 0,
) -> Article | None:
    """An article, or None when its link is no http(s) page a reader could open.

    `title` and `summary` are plain text already; a date missing, more than a day in the
    future (a clock or a typo), or before the web began (a default such as 1970-01-01)
    becomes the time we fetched the item, and a date given is kept as stated_published_at.
    """
    given = urljoin(base, link.strip()) if base else link.strip()
    try:
        url = canonical_url(given)
    except ValueError:
        return None  # a mailto: or javascript: link is nothing a reader should open
    summary = truncate(summary, SUMMARY_LIMIT)
    stated = None
    if published_at is None or not WEB_BEGAN <= published_at <= fetched_at + _FUTURE_SLACK:
        stated, published_at = published_at, fetched_at
    if discussion_url:
        try:
            discussion_url = canonical_url(discussion_url)
        except ValueError:
            discussion_url = ""
    return Article(
        id=canonical_id(url),
        url=url,
        title=title,
        summary=summary,
        source=source.name,
        published_at=published_at.astimezone(UTC),
        content_hash=hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest(),
        author=one_line(author),
        guid=guid.strip()[:500],
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t and t.strip())),
        pdf_url=pdf_url,
        discussion_url=discussion_url,
        score=score,
        comments=comments,
        stated_published_at=stated.astimezone(UTC) if stated else None,
        link=given if given != url else "",
    )


def plain(html: str) -> str:
    """Plain text of an HTML fragment from an API (titles, self-post bodies)."""
    return html_to_text(html) if "<" in html or "&" in html else html.strip()


def unique(articles: Iterable[Article | None]) -> tuple[Article, ...]:
    """The articles, first of each URL kept."""
    kept: dict[str, Article] = {}
    for article in articles:
        if article is not None and article.url not in kept:
            kept[article.url] = article
    return tuple(kept.values())


def parse_time(value: object) -> datetime | None:
    """A datetime from an ISO 8601 string or a Unix timestamp; None when it is neither."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and value.strip():
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def as_int(value: object) -> int:
    """An API's count as an int, 0 when it is missing or not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0
