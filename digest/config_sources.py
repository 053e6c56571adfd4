"""The entries sources.yaml may hold, one pydantic model per source kind."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import soupsieve
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from digest.models import Source

_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$"


def _http_url(v: str) -> str:
    if not v.startswith(("http://", "https://")):
        raise ValueError(f"{v!r} is not an http(s) URL")
    return v


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    weight: float = Field(1.0, ge=0, le=10)
    tags: tuple[str, ...] = ()
    interval_minutes: float = Field(60.0, gt=0, le=7 * 24 * 60)
    max_items: int = Field(200, ge=1, le=10_000)
    full_text: bool = False
    general: bool = False

    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v) if v else v

    def source(self, root: Path) -> Source:
        """The Source this entry declares; `root` is the folder relative paths start from."""
        common = {
            "name",
            "kind",
            "url",
            "weight",
            "tags",
            "interval_minutes",
            "full_text",
            "general",
        }
        params: dict[str, Any] = {
            k: v for k, v in self.model_dump().items() if k not in common and v is not None
        }
        if isinstance(params.get("path"), Path) and not params["path"].is_absolute():
            params["path"] = root / params["path"]
        return Source(
            name=self.name,
            kind=getattr(self, "kind"),  # noqa: B009 - every subclass declares it
            url=getattr(self, "url", "") or "",
            weight=self.weight,
            tags=self.tags,
            interval=self.interval_minutes * 60,
            full_text=self.full_text,
            general=self.general,
            params=params,
        )


class FeedEntry(_Entry):
    """RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed."""

    kind: Literal["feed"]
    url: str
    full_text: bool = True


class ArxivEntry(_Entry):
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


class HackerNewsEntry(_Entry):
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


class RedditEntry(_Entry):
    """A subreddit's listing (its .json twin)."""

    kind: Literal["reddit"]
    url: str = "https://www.reddit.com"
    subreddit: str = Field(pattern=r"^[A-Za-z0-9_]{2,21}$")
    listing: Literal["hot", "new", "top", "rising"] = "hot"
    period: Literal["hour", "day", "week", "month", "year", "all"] = "week"
    max_items: int = Field(50, ge=1, le=100)


class LobstersEntry(_Entry):
    """Lobsters stories of one tag."""

    kind: Literal["lobsters"]
    url: str = "https://lobste.rs"
    tag: str = Field(pattern=_NAME)


class HtmlEntry(_Entry):
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


class JsonlEntry(_Entry):
    """An archive of items, one JSON object per line, from a URL or a local file."""

    kind: Literal["jsonl"]
    url: str = ""
    path: Path | None = None
    max_items: int = Field(10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _one_place(self) -> JsonlEntry:
        if bool(self.url) == (self.path is not None):
            raise ValueError("give either url or path (not both)")
        return self


SourceEntry = Annotated[
    FeedEntry | ArxivEntry | HackerNewsEntry | RedditEntry | LobstersEntry | HtmlEntry | JsonlEntry,
    Field(discriminator="kind"),
]
SOURCE_KINDS = ("feed", "arxiv", "hackernews", "reddit", "lobsters", "html", "jsonl")
