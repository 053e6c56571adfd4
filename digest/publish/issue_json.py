"""An issue as a versioned JSON document (`issues/<issue>.json`), and its shipped JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from digest.models import Citation, Issue, Note, Section, Sentence
from digest.publish.render import (
    aware,
    is_web_url,
    published,
    story_anchor,
    story_link,
    strip_control,
    theme_slug,
)

# A new minor version only adds fields; a new major version renames or removes one, and then
# ships as a new schema file (issue-2.schema.json) beside the old one.
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "issue-1.schema.json"
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def schema_text() -> str:
    """The JSON Schema (draft 2020-12) every issue document validates against."""
    return files("digest.publish").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")


def schema_url(base_url: str) -> str:
    return f"{base_url}schemas/{SCHEMA_FILE}"


def issue_json_url(base_url: str, issue: Issue) -> str:
    return f"{base_url}issues/{issue.id}.json"


def _text(value: str) -> str:
    return " ".join(strip_control(value).split())


def _url(value: str) -> str:
    """A link only when it is an absolute http(s) URL (anything else, javascript:..., is ''),
    with spaces, quotes and angle brackets percent-encoded."""
    return quote(value.strip(), safe=_URL_SAFE) if is_web_url(value) else ""


def _citation(c: Citation) -> dict[str, Any]:
    return {
        "number": c.number,
        "url": _url(c.url),
        "title": _text(c.title),
        "source": _text(c.source),
    }


def _sentences(sentences: Sequence[Sentence]) -> list[dict[str, Any]]:
    return [{"text": _text(s.text), "citations": list(s.citations)} for s in sentences]


def _origin(origin: Citation | None) -> dict[str, Any] | None:
    if origin is None:
        return None
    return {"url": _url(origin.url), "title": _text(origin.title), "source": _text(origin.source)}


def _note(note: Note) -> dict[str, Any]:
    return {
        "text": _text(note.sentence.text),
        "title": _text(note.title),
        "authors": _text(note.authors),
        "citations": [_citation(c) for c in note.citations],
        "origin": _origin(note.origin),
    }


def _section(section: Section, issue_url: str, base_url: str) -> dict[str, Any]:
    slug = theme_slug(section.theme)
    s = section.summary
    return {
        "slug": slug,
        "name": _text(section.theme.name),
        "trend": section.theme.trend,
        "url": f"{issue_url}#{slug}",
        "topic_url": f"{base_url}themes/{slug}/",
        "headline": _text(s.headline),
        "headline_link": _url(s.headline_link),
        "what_happened": _sentences(s.what_happened),
        "why_it_matters": _sentences(s.why_it_matters),
        "technical": _sentences(s.technical),
        "winners_losers": _sentences(s.winners_losers),
        "citations": [_citation(c) for c in section.citations],
        "stories": [
            {
                "id": story.id,
                "title": _text(story.title),
                "url": f"{issue_url}#{story_anchor(story)}",
                "link": _url(story_link(story)),
                "sources": [_text(name) for name in story.sources],
                "is_update": story.is_update,
            }
            for story in section.theme.stories
        ],
    }


def issue_document(issue: Issue, base_url: str) -> dict[str, Any]:
    """The issue as plain data: every string plain text (never HTML), every link http(s)."""
    issue_url = f"{base_url}issues/{issue.id}/"
    return {
        "$schema": schema_url(base_url),
        "schema_version": SCHEMA_VERSION,
        "id": issue.id,
        "url": issue_url,
        "json_url": issue_json_url(base_url, issue),
        "title": _text(issue.title),
        "intro": _text(issue.intro),
        "week_start": issue.week_start.isoformat(),
        "week_end": issue.week_end.isoformat(),
        "published_at": published(issue).isoformat(),
        "built_at": aware(issue.built_at).isoformat(),
        "sections": [_section(s, issue_url, base_url) for s in issue.sections],
        "quick_hits": [_note(n) for n in issue.quick_hits],
        "research": [_note(n) for n in issue.research],
        "watch": [_note(n) for n in issue.watch],
    }


def dumps(document: object) -> str:
    """JSON that no tool sniffing it as HTML could read as markup."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_issue_documents(build_dir: Path, issues: Sequence[Issue], base_url: str) -> None:
    """issues/<issue>.json for every issue, and the schema they follow under schemas/."""
    for issue in issues:
        path = build_dir / "issues" / f"{issue.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(issue_document(issue, base_url)) + "\n", encoding="utf-8")
    schemas = build_dir / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    (schemas / SCHEMA_FILE).write_text(schema_text(), encoding="utf-8")
