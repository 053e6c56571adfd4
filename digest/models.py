"""The newsletter's nouns as frozen dataclasses: sources, articles, stories, themes, issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Source:
    """One place we read from, as declared in sources.yaml."""

    name: str
    kind: str
    url: str
    weight: float = 1.0
    tags: tuple[str, ...] = ()


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

    @property
    def text(self) -> str:
        """What the analyze stage reads: title and summary."""
        return f"{self.title}. {self.summary}".strip()


@dataclass(frozen=True)
class Story:
    """Articles about one event; its id stays the same across runs and weeks."""

    id: str
    title: str
    articles: tuple[Article, ...]
    is_update: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct sources that reported the story, in article order."""
        return tuple(dict.fromkeys(a.source for a in self.articles))


@dataclass(frozen=True)
class Theme:
    """Stories of one week that belong together, named from their content."""

    id: str
    name: str
    keywords: tuple[str, ...]
    stories: tuple[Story, ...]


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


@dataclass(frozen=True)
class Delivery:
    """One subscriber still owed one issue by email, and how often sending it was tried."""

    subscriber_id: int
    address: str
    name: str
    attempts: int
