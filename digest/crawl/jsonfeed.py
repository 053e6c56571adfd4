"""JSON Feed 1.0 and 1.1 (jsonfeed.org), which feedparser does not read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from digest.crawl.articles import make_article, parse_time, plain, unique
from digest.crawl.http import Fetched
from digest.crawl.text import one_line
from digest.errors import FeedError
from digest.models import Article, Source

_OLDEST = datetime(1970, 1, 1, tzinfo=UTC)


def is_json_feed(fetched: Fetched) -> bool:
    """True when the body is JSON (by media type, or by its first character)."""
    kind = fetched.content_type.split(";")[0].strip().lower()
    return kind in ("application/feed+json", "application/json") or (
        fetched.body.lstrip()[:1] == b"{"
    )


def parse_json_feed(fetched: Fetched, source: Source, limit: int) -> tuple[Article, ...]:
    """The newest `limit` items of a JSON Feed."""
    try:
        feed = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"{fetched.url} did not return a feed (invalid JSON: {exc})") from None
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list) or not str(feed.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError(
            f"{fetched.url} did not return a feed (JSON, but not a JSON Feed: no version and "
            "items); check the URL in sources.yaml"
        )
    entries = [i for i in items if isinstance(i, dict)]
    dated = [(parse_time(i.get("date_published") or i.get("date_modified")), i) for i in entries]
    dated.sort(key=lambda d: d[0] or _OLDEST, reverse=True)
    return unique(_article(i, when, fetched, source) for when, i in dated[:limit])


def _article(
    item: dict[str, Any], when: datetime | None, fetched: Fetched, source: Source
) -> Article | None:
    link = item.get("url") or item.get("external_url") or ""
    if not isinstance(link, str) or not link:
        return None
    html, text = item.get("content_html"), item.get("content_text")
    summary = plain(html) if isinstance(html, str) else str(text or item.get("summary") or "")
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [a.get("name", "") for a in authors if isinstance(a, dict)]
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    return make_article(
        source,
        link,
        one_line(str(item.get("title") or "")),
        summary,
        when,
        fetched.fetched_at,
        base=fetched.url,
        author=", ".join(n for n in names if n),
        guid=str(item.get("id") or ""),
        tags=[str(t) for t in tags or []],
    )
