"""The `arxiv` source kind: the arXiv API (Atom) by category and/or query, 3 s between calls."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import feedparser
from pydantic import Field, model_validator

from digest.crawl.articles import make_article, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.rss import _published
from digest.crawl.text import collapse_whitespace
from digest.crawl.visit import Visit
from digest.errors import FeedError
from digest.models import Article, Source

ARXIV_DELAY = 3.0  # seconds between requests, as arXiv's API terms ask
_VERSION = re.compile(r"v\d+$")


def query_url(source: Source) -> str:
    """The API request for the source's categories and query, newest submissions first."""
    cats = " OR ".join(f"cat:{c}" for c in source.params.get("categories", ()))
    query = str(source.params.get("query", "")).strip()
    terms = [f"({cats})" if cats else "", f"all:({query})" if query else ""]
    params = {
        "search_query": " AND ".join(t for t in terms if t),
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": 0,
        "max_results": int(source.params.get("max_items", 50)),
    }
    return f"{source.url}?{urlencode(params)}"


async def read_arxiv(visit: Visit, source: Source) -> tuple[Article, ...]:
    """The newest papers matching the source, with authors, categories, abstract and PDF."""
    fetched = await visit.get(query_url(source), host_delay=ARXIV_DELAY)
    if fetched.not_modified:
        return ()
    parsed = feedparser.parse(io.BytesIO(fetched.body), sanitize_html=False)
    if parsed.bozo and not parsed.entries:
        raise FeedError(
            f"{fetched.url} did not return arXiv's Atom answer ({parsed.get('bozo_exception')}); "
            "check the source's url, categories and query"
        )
    return unique(_paper(e, fetched.fetched_at, source) for e in parsed.entries)


def _paper(entry: Mapping[str, Any], fetched_at: Any, source: Source) -> Article | None:
    links = entry.get("links") or []
    abstract = entry.get("link") or next(
        (x.get("href") for x in links if x.get("rel") == "alternate"), ""
    )
    pdf = next((x.get("href", "") for x in links if x.get("title") == "pdf"), "")
    if not abstract:
        return None
    authors = [a.get("name", "") for a in entry.get("authors") or []]
    primary = (entry.get("arxiv_primary_category") or {}).get("term", "")
    categories = [primary, *(t.get("term", "") for t in entry.get("tags") or [])]
    return make_article(
        source,
        _VERSION.sub("", abstract),  # every version of a paper is one article
        collapse_whitespace(entry.get("title") or ""),
        collapse_whitespace(entry.get("summary") or ""),
        _published(entry),
        fetched_at,
        author=", ".join(a for a in authors if a),
        guid=entry.get("id") or "",
        tags=categories,
        pdf_url=pdf,
    )


class ArxivEntry(SourceEntry):
    """The arXiv API, by categories and/or a search query."""

    kind: Literal["arxiv"]
    url: str = "https://export.arxiv.org/api/query"
    categories: tuple[Annotated[str, Field(pattern=r"^[a-z-]+(\.[A-Za-z-]+)?$")], ...] = ()
    query: str = ""
    max_items: int = Field(50, ge=1, le=2000)

    @model_validator(mode="after")
    def _something_to_ask(self) -> ArxivEntry:
        if not self.categories and not self.query:
            raise ValueError("give categories (like [cs.CL]) or a query, or both")
        return self


KIND = declare("arxiv", ArxivEntry, read_arxiv)
