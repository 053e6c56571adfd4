"""How an issue was made, as the run recorded it: crawls, articles, stories, grounding, LLM cost."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SourceTally:
    """One source across the crawls that fed an issue."""

    name: str
    crawls: int  # crawls that tried it
    failed: int  # of those, how many failed
    error: str = ""  # why the last failed one failed
    articles: int = 0  # the week's articles from it

    @property
    def status(self) -> str:
        """'ok', 'failed' (every crawl of it), or 'failed 2 of 5 crawls'."""
        if not self.failed:
            return "ok"
        if self.failed == self.crawls:
            return "failed"
        return f"failed {self.failed} of {self.crawls} crawls"


@dataclass(frozen=True)
class LLMTally:
    """The writer's model calls for an issue, and what they cost."""

    model: str
    calls: int
    cached: int
    failed: int
    retries: int
    input_tokens: int
    output_tokens: int
    cost: float  # estimated dollars


@dataclass(frozen=True)
class Making:
    """The record of the run that made one issue; nothing in it is typed in by hand."""

    issue_id: str
    made_at: datetime
    crawls: int  # crawl runs since the issue before was made
    first_crawl: datetime | None
    last_crawl: datetime | None
    sources: tuple[SourceTally, ...]
    articles: int  # the week's articles read
    considered: int  # of those, the ones weighed for the issue (news, about AI)
    stories: int  # stories formed from the week's articles
    themes: int  # themes the issue has
    told: int  # stories the issue tells
    writer: str
    checked: int  # sentences grounding checked against their sources
    dropped: tuple[tuple[str, int], ...] = ()  # sentences dropped as unverifiable, by reason
    rewritten: int = 0  # model sentences dropped and written extractively instead
    repeated: int = 0  # sentences dropped for telling a fact told already
    off_style: int = 0  # sentences dropped for breaking the house style
    llm: LLMTally | None = None
    fallbacks: tuple[str, ...] = field(default=())  # what was written extractively, and why

    @property
    def failed_sources(self) -> tuple[SourceTally, ...]:
        return tuple(s for s in self.sources if s.failed)

    @property
    def unverified(self) -> int:
        """Sentences dropped because their sources did not bear them out."""
        return sum(n for _, n in self.dropped)

    @property
    def passed(self) -> int:
        return self.checked - self.unverified


def making_to_json(making: Making) -> str:
    return json.dumps(asdict(making), default=str, sort_keys=True)


def making_from_json(body: str) -> Making:
    data: dict[str, Any] = json.loads(body)
    for key in ("made_at", "first_crawl", "last_crawl"):
        data[key] = datetime.fromisoformat(data[key]) if data[key] else None
    data["sources"] = tuple(SourceTally(**s) for s in data["sources"])
    data["dropped"] = tuple((str(r), int(n)) for r, n in data["dropped"])
    data["llm"] = LLMTally(**data["llm"]) if data["llm"] else None
    data["fallbacks"] = tuple(data["fallbacks"])
    return Making(**data)
