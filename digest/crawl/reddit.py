"""The `reddit` source kind: a subreddit's listing JSON (score, comments, flair, self-posts)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field

from digest.crawl.apijson import load_json, shape_error
from digest.crawl.articles import as_int, make_article, parse_time, plain, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.text import one_line
from digest.crawl.visit import Visit
from digest.models import Article, Source

REDDIT = "https://www.reddit.com"


def listing_url(source: Source) -> str:
    p = source.params
    params: dict[str, Any] = {"limit": int(p.get("max_items", 50)), "raw_json": 1}
    if p.get("listing") == "top":
        params["t"] = p.get("period", "week")
    listing = p.get("listing", "hot")
    return f"{source.url.rstrip('/')}/r/{p['subreddit']}/{listing}.json?{urlencode(params)}"


async def read_reddit(visit: Visit, source: Source) -> tuple[Article, ...]:
    """Posts of the listing: the linked article, or the self-post, with its thread."""
    fetched = await visit.get(listing_url(source))
    if fetched.not_modified:
        return ()
    data = load_json(fetched, "Reddit listing")
    children = data.get("data", {}).get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise shape_error(fetched, "a Reddit listing", "data.children")
    posts = [c.get("data") for c in children if isinstance(c, dict) and c.get("kind") == "t3"]
    return unique(_post(p, fetched.fetched_at, source) for p in posts if isinstance(p, dict))


def _post(post: dict[str, Any], fetched_at: Any, source: Source) -> Article | None:
    thread = f"{REDDIT}{post.get('permalink') or ''}"
    is_self = bool(post.get("is_self")) or not post.get("url")
    link = thread if is_self else str(post["url"])
    if link.startswith("/"):  # a crosspost's url can be a bare permalink
        link = f"{REDDIT}{link}"
    flair = post.get("link_flair_text")
    return make_article(
        source,
        link,
        one_line(str(post.get("title") or "")),
        plain(str(post.get("selftext") or "")),
        parse_time(post.get("created_utc")),
        fetched_at,
        author=str(post.get("author") or ""),
        guid=str(post.get("name") or post.get("id") or ""),
        tags=[str(flair)] if flair else [],
        discussion_url=thread,
        score=as_int(post.get("score")),
        comments=as_int(post.get("num_comments")),
    )


class RedditEntry(SourceEntry):
    """A subreddit's listing (its .json twin)."""

    kind: Literal["reddit"]
    url: str = "https://www.reddit.com"
    subreddit: str = Field(pattern=r"^[A-Za-z0-9_]{2,21}$")
    listing: Literal["hot", "new", "top", "rising"] = "hot"
    period: Literal["hour", "day", "week", "month", "year", "all"] = "week"
    max_items: int = Field(50, ge=1, le=100)


KIND = declare("reddit", RedditEntry, read_reddit)
