"""The `hackernews` source kind: Algolia HN search (query, points floor) or the front page."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field, model_validator

from digest.crawl.apijson import load_json, shape_error
from digest.crawl.articles import as_int, make_article, parse_time, plain, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.text import one_line
from digest.crawl.visit import Visit
from digest.models import Article, Source

ITEM_URL = "https://news.ycombinator.com/item?id="


def query_url(source: Source) -> str:
    """The Algolia request: newest stories matching the query, or today's front page."""
    p = source.params
    params: dict[str, Any] = {"hitsPerPage": int(p.get("max_items", 50))}
    if p.get("front_page"):
        params["tags"] = "front_page"
        endpoint = "search"
    else:
        params["tags"] = "story"
        endpoint = "search_by_date"
    if p.get("query"):
        params["query"] = p["query"]
    if int(p.get("min_points", 0)):
        params["numericFilters"] = f"points>={int(p['min_points'])}"
    return f"{source.url.rstrip('/')}/{endpoint}?{urlencode(params)}"


async def read_hackernews(visit: Visit, source: Source) -> tuple[Article, ...]:
    """HN stories: the linked article (or the Ask HN text) with points, comments, thread."""
    fetched = await visit.get(query_url(source))
    if fetched.not_modified:
        return ()
    data = load_json(fetched, "Hacker News (Algolia)")
    hits = data.get("hits") if isinstance(data, dict) else None
    if not isinstance(hits, list):
        raise shape_error(fetched, "Algolia's HN search", "an object with a 'hits' list")
    floor = int(source.params.get("min_points", 0))
    return unique(
        _story(h, fetched.fetched_at, source)
        for h in hits
        if isinstance(h, dict) and as_int(h.get("points")) >= floor
    )


def _story(hit: dict[str, Any], fetched_at: Any, source: Source) -> Article | None:
    thread = f"{ITEM_URL}{hit.get('objectID') or hit.get('story_id') or ''}"
    link = hit.get("url") or thread
    return make_article(
        source,
        str(link),
        one_line(str(hit.get("title") or hit.get("story_title") or "")),
        plain(str(hit.get("story_text") or "")),
        parse_time(hit.get("created_at_i")) or parse_time(hit.get("created_at")),
        fetched_at,
        author=str(hit.get("author") or ""),
        guid=f"hn:{hit.get('objectID')}",
        discussion_url=thread,
        score=as_int(hit.get("points")),
        comments=as_int(hit.get("num_comments")),
    )


class HackerNewsEntry(SourceEntry):
    """Hacker News through the Algolia API: a search with a points floor, or the front page."""

    kind: Literal["hackernews"]
    url: str = "https://hn.algolia.com/api/v1"
    query: str = ""
    min_points: int = Field(0, ge=0)
    front_page: bool = False
    max_items: int = Field(50, ge=1, le=1000)

    @model_validator(mode="after")
    def _something_to_ask(self) -> HackerNewsEntry:
        if not self.query and not self.front_page:
            raise ValueError("give a query, or front_page: true")
        return self


KIND = declare("hackernews", HackerNewsEntry, read_hackernews)
