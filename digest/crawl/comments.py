"""A thread's top comments: HN through Algolia's items API, Reddit through its comments JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from digest.crawl.apijson import load_json, shape_error
from digest.crawl.articles import as_int, plain
from digest.crawl.http import Fetcher, FetchPolicy, open_fetcher
from digest.crawl.text import truncate
from digest.errors import DigestError
from digest.models import Remark

HN_API = "https://hn.algolia.com/api/v1"
REDDIT_API = "https://www.reddit.com"
COMMENT_CHARS = 2000  # of one comment's text kept: a quote is one sentence of it
_GONE = frozenset({"[deleted]", "[removed]", ""})
_BOTS = frozenset({"AutoModerator"})


@dataclass(frozen=True)
class ThreadAsk:
    """One thread whose comments are wanted: its URL, its community, and the API that serves
    it (the base URL of the source that reported it, so a replay or a mirror is asked)."""

    url: str
    place: str
    api: str


@dataclass(frozen=True)
class CommentLimits:
    """How much of a thread is read: top-level comments kept, bytes accepted per thread."""

    per_thread: int = 5
    max_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class ThreadComments:
    """A thread's top comments (best first), or why there are none."""

    ask: ThreadAsk
    comments: tuple[Remark, ...] = ()
    error: str = ""


def comments_url(ask: ThreadAsk, limits: CommentLimits) -> str:
    """The API request for the thread's comments; ValueError for a thread of another forum."""
    parts = urlsplit(ask.url)
    host = (parts.hostname or "").lower()
    if host.endswith("ycombinator.com"):
        item = parse_qs(parts.query).get("id", [""])[0]
        if not item.isdigit():
            raise ValueError(f"{ask.url} names no HN item")
        return f"{ask.api.rstrip('/')}/items/{item}"
    if host.endswith("reddit.com"):
        query = urlencode(
            {"limit": limits.per_thread * 2, "depth": 1, "sort": "top", "raw_json": 1}
        )
        return f"{ask.api.rstrip('/')}{parts.path.rstrip('/')}.json?{query}"
    raise ValueError(f"{ask.url} is not a Hacker News or Reddit thread")


def _hn(data: Any, ask: ThreadAsk) -> list[Remark]:
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise ValueError("an HN item with a 'children' list")
    # Algolia lists an item's replies in the thread's order on HN: the best first.
    return [
        Remark(truncate(plain(str(c.get("text") or "")), COMMENT_CHARS), ask.url, ask.place)
        for c in children
        if isinstance(c, dict) and c.get("type", "comment") == "comment" and c.get("text")
    ]


def _reddit(data: Any, ask: ThreadAsk) -> list[Remark]:
    if not (isinstance(data, list) and len(data) > 1 and isinstance(data[1], dict)):
        raise ValueError("a list of the post's listing and its comments' listing")
    children = data[1].get("data", {}).get("children", [])
    found = [
        c["data"]
        for c in children
        if isinstance(c, dict) and c.get("kind") == "t1" and isinstance(c.get("data"), dict)
    ]
    kept = [
        c
        for c in found
        if str(c.get("body") or "").strip() not in _GONE
        and not c.get("stickied")
        and c.get("author") not in _BOTS
    ]
    kept.sort(key=lambda c: -as_int(c.get("score")))
    return [
        Remark(truncate(str(c["body"]).strip(), COMMENT_CHARS), ask.url, ask.place) for c in kept
    ]


async def thread_comments(
    fetcher: Fetcher, ask: ThreadAsk, limits: CommentLimits
) -> ThreadComments:
    """The thread's top comments through the guarded fetcher (its size cap, deadline and
    per-host politeness); a thread that fails costs only itself."""
    try:
        url = comments_url(ask, limits)
        fetched = await fetcher.get(
            url, max_bytes=limits.max_bytes, permit=fetcher.permit_for(ask.api)
        )
        data = load_json(fetched, "a thread's comments")
        read = _hn if "/items/" in urlsplit(url).path else _reddit
        try:
            comments = read(data, ask)
        except ValueError as exc:
            raise shape_error(fetched, "a thread's comments", str(exc)) from None
    except (DigestError, ValueError) as exc:
        return ThreadComments(ask, error=str(exc))
    return ThreadComments(ask, tuple(comments[: limits.per_thread]))


def fetch_comments(
    asks: Sequence[ThreadAsk], policy: FetchPolicy, limits: CommentLimits
) -> list[ThreadComments]:
    """Each thread's top comments, in the order asked; for callers without an event loop."""

    async def fetch_all() -> list[ThreadComments]:
        async with open_fetcher(policy) as fetcher:
            return list(await asyncio.gather(*(thread_comments(fetcher, a, limits) for a in asks)))

    return asyncio.run(fetch_all())
