"""Issue objects to and from JSON, so that past issues can be re-rendered without re-analysis."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from digest.models import (
    Article,
    Citation,
    Issue,
    Note,
    Remark,
    Reporting,
    Section,
    Sentence,
    Story,
    Summary,
    Theme,
    Thread,
)


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def issue_to_json(issue: Issue) -> str:
    """A stable JSON text of the issue (sorted keys, so equal issues give equal text)."""
    return json.dumps(asdict(issue), default=_default, sort_keys=True, ensure_ascii=False)


def _article(d: dict[str, Any]) -> Article:
    published = datetime.fromisoformat(d["published_at"])
    stated = d.get("stated_published_at")
    return Article(
        **{
            **d,
            "published_at": published,
            "stated_published_at": datetime.fromisoformat(stated) if stated else None,
            "tags": tuple(d.get("tags", ())),
        }
    )


def _reporting(d: dict[str, Any] | None) -> Reporting | None:
    if d is None:
        return None
    return Reporting(
        d["origin"],
        d["outlets"],
        tuple(Thread(**t) for t in d["threads"]),
        d["only"],
        tuple(Remark(**r) for r in d.get("said", ())),
    )


def _story(d: dict[str, Any]) -> Story:
    return Story(
        id=d["id"],
        title=d["title"],
        articles=tuple(_article(a) for a in d["articles"]),
        is_update=d["is_update"],
        link=d.get("link", ""),
        reporting=_reporting(d.get("reporting")),
    )


def _sentence(d: dict[str, Any]) -> Sentence:
    return Sentence(d["text"], tuple(d["citations"]))


def _citations(items: list[dict[str, Any]]) -> tuple[Citation, ...]:
    return tuple(Citation(**c) for c in items)


def _section(d: dict[str, Any]) -> Section:
    t = d["theme"]
    theme = Theme(
        t["id"],
        t["name"],
        tuple(t["keywords"]),
        tuple(_story(s) for s in t["stories"]),
        t.get("trend", "new"),
        t.get("previous_count", 0),
        t.get("previous_name", ""),
        t.get("slug", ""),
    )
    s = d["summary"]
    summary = Summary(
        s["headline"],
        tuple(_sentence(x) for x in s["what_happened"]),
        tuple(_sentence(x) for x in s["why_it_matters"]),
        tuple(_sentence(x) for x in s.get("technical", ())),
        tuple(_sentence(x) for x in s.get("winners_losers", ())),
        s.get("headline_link", ""),
    )
    return Section(theme, summary, _citations(d["citations"]))


def _notes(items: list[dict[str, Any]]) -> tuple[Note, ...]:
    return tuple(
        Note(
            _sentence(n["sentence"]),
            _citations(n["citations"]),
            n.get("title", ""),
            n.get("authors", ""),
            Citation(**n["origin"]) if n.get("origin") else None,
            _reporting(n.get("reporting")),
        )
        for n in items
    )


def issue_from_json(text: str) -> Issue:
    """The Issue that issue_to_json wrote."""
    d = json.loads(text)
    return Issue(
        id=d["id"],
        title=d["title"],
        week_start=date.fromisoformat(d["week_start"]),
        week_end=date.fromisoformat(d["week_end"]),
        built_at=datetime.fromisoformat(d["built_at"]),
        intro=d["intro"],
        sections=tuple(_section(s) for s in d["sections"]),
        quick_hits=_notes(d["quick_hits"]),
        research=_notes(d.get("research", [])),
        watch=_notes(d.get("watch", [])),
        published_at=datetime.fromisoformat(d["published_at"]) if d.get("published_at") else None,
    )
