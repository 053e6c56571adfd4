"""The `html` source kind: a listing page without a feed, read with CSS selectors."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import soupsieve
from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from pydantic import field_validator

from digest.crawl.articles import make_article, parse_time, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.text import collapse_whitespace
from digest.crawl.visit import Visit
from digest.errors import FeedError
from digest.models import Article, Source

_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%b %d %Y")


async def read_html(visit: Visit, source: Source) -> tuple[Article, ...]:
    """One article per element matching the `item` selector."""
    fetched = await visit.get(source.url)
    if fetched.not_modified:
        return ()
    charset = None
    if "charset=" in fetched.content_type:
        charset = fetched.content_type.split("charset=", 1)[1].split(";")[0].strip(" \"'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(fetched.body, "lxml", from_encoding=charset)
    p = source.params
    items = soup.select(p["item"])
    if not items:
        raise FeedError(
            f"{fetched.url} has no element matching the item selector {p['item']!r}; the page "
            "may have changed: update the source's selectors in sources.yaml"
        )
    limit = int(p.get("max_items", 200))
    return unique(_item(i, p, fetched.url, fetched.fetched_at, source) for i in items[:limit])


def _item(
    item: Tag, p: Mapping[str, Any], base: str, fetched_at: datetime, source: Source
) -> Article | None:
    title_el = item.select_one(p["title"])
    link_el = item.select_one(p["link"])
    if title_el is None or link_el is None:
        return None
    if link_el.name != "a":
        link_el = link_el.find("a") or link_el
    href = link_el.get("href") if isinstance(link_el, Tag) else None
    if not isinstance(href, str):
        return None
    summary_el = item.select_one(p["summary"]) if p.get("summary") else None
    date_el = item.select_one(p["date"]) if p.get("date") else None
    return make_article(
        source,
        href,
        collapse_whitespace(title_el.get_text(" ")),
        collapse_whitespace(summary_el.get_text(" ")) if summary_el else "",
        _date(date_el),
        fetched_at,
        base=base,
    )


def _date(element: Tag | None) -> datetime | None:
    """A date from a <time datetime=...> attribute or the element's text."""
    if element is None:
        return None
    value = element.get("datetime") or element.get("content") or element.get_text(" ")
    text = collapse_whitespace(str(value))
    if when := parse_time(text):
        return when
    try:
        return parsedate_to_datetime(text).astimezone(UTC)
    except (TypeError, ValueError):
        pass
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


class HtmlEntry(SourceEntry):
    """A listing page without a feed, read with CSS selectors."""

    kind: Literal["html"]
    url: str
    item: str
    title: str
    link: str
    date: str = ""
    summary: str = ""
    full_text: bool = True

    @field_validator("item", "title", "link", "date", "summary")
    @classmethod
    def _selector(cls, v: str) -> str:
        if v:
            try:
                soupsieve.compile(v)
            except soupsieve.SelectorSyntaxError as exc:
                raise ValueError(f"{v!r} is not a valid CSS selector ({exc})") from None
        return v


KIND = declare("html", HtmlEntry, read_html)
