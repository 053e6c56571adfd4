"""The newsletter's nouns as frozen dataclasses: sources, articles, stories, themes, issues."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Source:
    """One place we read from, as declared in sources.yaml."""

    name: str
    kind: str
    url: str
    weight: float = 1.0
    tags: tuple[str, ...] = ()
    interval: float = 3600.0  # seconds between two crawls of this source
    full_text: bool = False  # fetch each new article's page and extract its text
    general: bool = False  # its items may make the issue without being about AI
    # Who it is (see digest.families): first-party, paper, press, community or aggregator,
    # and the publisher family its posts count for; "" when sources.yaml leaves it to defaults.
    type: str = ""
    family: str = ""
    # Kind-specific settings from sources.yaml (arXiv categories, CSS selectors, ...).
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


# What an article's text is: the page's full text, only a blurb (paywall, JavaScript or
# consent wall, or a page too short), a page we could not fetch or read, or "" when its
# page was not fetched (full_text is off for the source) and `summary` is all we have.
TEXT_STATUSES = ("full", "blurb", "failed", "")


# A bare picture or video: an image host's page or a media file.
_MEDIA = re.compile(
    r"^https?://(?:i\.redd\.it|v\.redd\.it|i\.imgur\.com|pbs\.twimg\.com)/|"
    r"\.(?:jpe?g|png|gif|webp|mp4|webm)(?:[?#].*)?$",
    re.I,
)


@dataclass(frozen=True)
class Article:
    """One item of one source, keyed by its canonical URL."""

    id: str
    url: str
    title: str
    summary: str
    source: str
    published_at: datetime
    content_hash: str
    author: str = ""
    guid: str = ""  # the id the source gave the item, when it gave one
    tags: tuple[str, ...] = ()  # the source's categories or flair (arXiv cs.CL, "New Model")
    pdf_url: str = ""
    discussion_url: str = ""  # the HN, Reddit or Lobsters thread about it
    score: int = 0  # points or upvotes of that discussion
    comments: int = 0
    text_status: str = ""  # one of TEXT_STATUSES
    full_text: str = ""
    # The date the source gave, kept for display when it was not believable (before the web
    # began, or in the future) and published_at is the time we fetched the item instead.
    stated_published_at: datetime | None = None
    # The link exactly as the source gave it, when it differs from the canonical `url`:
    # `url` is the article's identity, `link` is where a reader is sent.
    link: str = ""

    @property
    def href(self) -> str:
        """Where a link to this article goes: the source's own link, else the canonical URL,
        but for a forum post of a bare picture or video, the thread: what was said is there."""
        if not self.link and self.discussion_url and _MEDIA.search(self.url):
            return self.discussion_url
        return self.link or self.url

    @property
    def text(self) -> str:
        """What the analyze stage reads: title and summary."""
        return f"{self.title}. {self.summary}".strip()


@dataclass(frozen=True)
class Thread:
    """One discussion of a story: a Hacker News, Reddit or Lobsters thread."""

    place: str  # "HN", "r/LocalLLaMA", "Lobsters"
    url: str
    score: int = 0  # points or upvotes
    comments: int = 0


@dataclass(frozen=True)
class Remark:
    """A sentence a commenter wrote in one of a story's threads, quoted as written."""

    text: str
    thread: str  # the thread's URL
    place: str


@dataclass(frozen=True)
class Reporting:
    """Who reported a story: whether it comes from the lab (or a paper), how many other
    publishers told it, its threads, and when one community alone reported it."""

    origin: str = ""  # "lab", "first-party" (a project's own page), "paper" or ""
    outlets: int = 0  # publisher families beyond the origin, forums not counted
    threads: tuple[Thread, ...] = ()  # busiest first
    only: str = ""  # the one community that alone reported it: unconfirmed
    said: tuple[Remark, ...] = ()  # "What people said", from the threads' top comments


@dataclass(frozen=True)
class Story:
    """Articles about one event; its id stays the same across runs and weeks."""

    id: str
    title: str
    articles: tuple[Article, ...]
    is_update: bool = False
    link: str = ""  # the post its title was taken from; "" for its first article's
    reporting: Reporting | None = None  # set once the issue is written

    @property
    def href(self) -> str:
        """Where the story's title links to: the post the title was taken from."""
        return self.link or (self.articles[0].href if self.articles else "")

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct sources that reported the story, in article order."""
        return tuple(dict.fromkeys(a.source for a in self.articles))


MAX_NAME_WORDS = 4  # a theme's name, a section head, is at most this many words
_URLISH = re.compile(r"https?|www\.|\.(?:com|org|net|io|ai|dev|co)\b|/", re.I)
_VERSION = re.compile(r"v?\d+(?:[.\-_]\d+)*[a-z]?", re.I)


def readable_name(name: str) -> bool:
    """Whether a theme name reads as a section head: no URL, no bare version, no '·' list."""
    words = name.split()
    return (
        0 < len(words) <= MAX_NAME_WORDS
        and "·" not in name
        and "|" not in name
        and not _URLISH.search(name)
        and not all(_VERSION.fullmatch(w) for w in words)
    )


@dataclass(frozen=True)
class Theme:
    """Stories of one week that belong together, named from their content."""

    id: str
    name: str
    keywords: tuple[str, ...]
    stories: tuple[Story, ...]
    # Compared with last week's themes: new, continuing, rising or fading.
    trend: str = "new"
    previous_count: int = 0
    previous_name: str = ""
    slug: str = ""


@dataclass(frozen=True)
class Citation:
    """A numbered reference from written text to one article."""

    number: int
    article_id: str
    url: str
    title: str
    source: str


@dataclass(frozen=True)
class Sentence:
    """One written sentence and the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    """What the writer made of one theme; the last two only when the sources support them."""

    headline: str
    what_happened: tuple[Sentence, ...]
    why_it_matters: tuple[Sentence, ...]
    technical: tuple[Sentence, ...] = ()
    winners_losers: tuple[Sentence, ...] = ()
    headline_link: str = ""  # the post the headline was taken from


@dataclass(frozen=True)
class Section:
    """One theme as it appears in an issue: the theme, its summary and its numbered sources."""

    theme: Theme
    summary: Summary
    citations: tuple[Citation, ...]

    def citation(self, number: int) -> Citation:
        """The citation a [number] in this section refers to."""
        for c in self.citations:
            if c.number == number:
                return c
        raise KeyError(number)


@dataclass(frozen=True)
class Note:
    """One cited line: a quick hit, a paper's takeaway, or something to watch."""

    sentence: Sentence
    citations: tuple[Citation, ...]
    title: str = ""  # a paper's title (research corner)
    authors: str = ""  # a paper's authors (research corner)
    # The thing itself (a model's page, the lab's post) when the line is cited to a thread or
    # a report about it: linked after the line, not a citation of it.
    origin: Citation | None = None
    reporting: Reporting | None = None  # who reported the story the note tells


@dataclass(frozen=True)
class Issue:
    """One weekly issue: the single object every renderer reads."""

    id: str
    title: str
    week_start: date
    week_end: date
    built_at: datetime
    intro: str
    sections: tuple[Section, ...]
    quick_hits: tuple[Note, ...] = field(default=())
    research: tuple[Note, ...] = field(default=())
    watch: tuple[Note, ...] = field(default=())
    # When the issue was first published (None for a draft): the date its feed entries carry.
    published_at: datetime | None = None


@dataclass(frozen=True)
class SourceHealth:
    """What the crawler remembers about one source between crawls."""

    source: str
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""  # empty after a success; otherwise what to do about it
    failures: int = 0  # consecutive
    next_attempt: datetime | None = None  # not fetched before this (interval or backoff)
    last_new: int = 0  # new articles the last successful crawl stored
    validated_url: str = ""  # the URL the validators below belong to
    etag: str = ""
    last_modified: str = ""
    validated_at: datetime | None = None  # when that URL last sent its whole document
    last_warning: str = ""  # what the last successful crawl salvaged from a faulty document


@dataclass(frozen=True)
class Delivery:
    """One subscriber still owed one issue by email, and how often sending it was tried."""

    subscriber_id: int
    address: str
    name: str
    attempts: int
