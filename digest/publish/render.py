"""The Jinja2 environment every publish view renders with: loaders, filters and tests."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from markupsafe import Markup, escape

from digest.errors import PublishError
from digest.models import Citation, Issue, Section, Sentence, Story, Theme
from digest.publish.reported import linked_threads, reported, reported_text, said, said_text
from digest.publish.sanitize import clean_html

# Characters XML 1.0 forbids (C0 controls but tab/newline/return, lone surrogates, U+FFFE/F):
# lxml refuses them in the feed, and they are never meaningful in a page or an email.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ANCHOR_JUNK = re.compile(r"[^a-z0-9]+")
_EN_DASH = "\u2013"
_MONTHS = tuple(calendar.month_name[1:])


def strip_control(text: str) -> str:
    """Text without the control characters that break XML and mean nothing to a reader."""
    return _INVALID_CHARS.sub("", text)


def aware(moment: datetime) -> datetime:
    """The moment with a timezone: a naive built_at is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL: the only kind that may become a link."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def week_range(issue: Issue) -> str:
    """The issue's week as a reader says it: '16-22 November 2026', with an en dash."""
    start, end = issue.week_start, issue.week_end
    end_text = f"{end.day} {_MONTHS[end.month - 1]} {end.year}"
    if start == end:
        return end_text
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}{_EN_DASH}{end_text}"
    if start.year == end.year:
        return f"{start.day} {_MONTHS[start.month - 1]} {_EN_DASH} {end_text}"
    return f"{start.day} {_MONTHS[start.month - 1]} {start.year} {_EN_DASH} {end_text}"


def day(moment: date) -> str:
    """A date as a reader says it: '16 November 2026'."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def anchor(name: str) -> str:
    """An HTML id made from a theme or story id: lowercase letters, digits and dashes."""
    return _ANCHOR_JUNK.sub("-", name.lower()).strip("-") or "section"


def issue_path(issue: Issue) -> str:
    """The issue page's path relative to the site root; index.html keeps file:// working."""
    return f"issues/{issue.id}/index.html"


def theme_slug(theme: Theme) -> str:
    """The theme's stable name in URLs and anchors: its topic slug, else one made from its id."""
    return anchor(theme.slug or theme.id)


def theme_path(theme: Theme) -> str:
    """The theme page's path relative to the site root: one page per theme across issues."""
    return f"themes/{theme_slug(theme)}/index.html"


def story_path(story_id: str) -> str:
    """A story's page, relative to the site root: one per story across issues, its id kept."""
    return f"stories/{anchor(story_id)}/index.html"


def making_path(issue: Issue) -> str:
    """The issue's "How this issue was made" page, relative to the site root."""
    return f"issues/{issue.id}/made/index.html"


def published(issue: Issue) -> datetime:
    """When the issue was first published; a draft or an issue stored before that was kept
    shows when it was built."""
    return aware(issue.published_at or issue.built_at)


def story_link(story: Story) -> str:
    """The post the story's title was taken from, else its first web link; '' when none may
    be linked."""
    links = [story.href, *(a.href for a in story.articles)]
    return next((url.strip() for url in links if is_web_url(url)), "")


def story_anchor(story: Story) -> str:
    """The HTML id of a story within an issue page."""
    return f"story-{anchor(story.id)}"


@dataclass(frozen=True)
class StorySources:
    """A section's sources, listed once: per cited story, the rest of its stories, and any
    citation of an article outside them."""

    cited: tuple[tuple[Story, tuple[Citation, ...]], ...]
    more: tuple[Story, ...]
    loose: tuple[Citation, ...]


def story_sources(section: Section) -> StorySources:
    """Each story of the section with the citations of its articles, in citation order."""
    owner = {a.id: s.id for s in section.theme.stories for a in s.articles}
    by_story: dict[str, list[Citation]] = {}
    loose = []
    for c in sorted(section.citations, key=lambda c: c.number):
        if c.article_id in owner:
            by_story.setdefault(owner[c.article_id], []).append(c)
        else:
            loose.append(c)
    stories = {s.id: s for s in section.theme.stories}
    return StorySources(
        tuple((stories[key], tuple(cites)) for key, cites in by_story.items()),
        tuple(s for s in section.theme.stories if s.id not in by_story),
        tuple(loose),
    )


def _lookup(sentence: Sentence, citations: Sequence[Citation]) -> list[Citation]:
    by_number = {c.number: c for c in citations}
    missing = [n for n in sentence.citations if n not in by_number]
    if missing:
        raise PublishError(
            f"sentence {sentence.text[:60]!r} cites [{missing[0]}] but its section lists no "
            f"source {missing[0]}; re-run the write stage so every [n] has a source"
        )
    return [by_number[n] for n in sentence.citations]


def cited(sentence: Sentence, citations: Sequence[Citation]) -> Markup:
    """The sentence as escaped HTML followed by one [n] link per citation."""
    marks = []
    for c in _lookup(sentence, citations):
        label = f"[{c.number}]"
        if is_web_url(c.url):
            marks.append(Markup('<sup><a href="{}">{}</a></sup>').format(c.url.strip(), label))
        else:
            marks.append(Markup("<sup>{}</sup>").format(label))
    return escape(sentence.text) + Markup("").join(marks)


def cited_text(sentence: Sentence, citations: Sequence[Citation]) -> str:
    """The sentence as plain text followed by its [n] markers."""
    marks = "".join(f"[{c.number}]" for c in _lookup(sentence, citations))
    return f"{sentence.text} {marks}" if marks else sentence.text


def make_environment(template_dir: Path | None = None) -> Environment:
    """Templates from template_dir first (when it exists), then the packaged defaults."""
    loaders: list[BaseLoader] = []
    if template_dir is not None and template_dir.is_dir():
        loaders.append(FileSystemLoader(template_dir))
    loaders.append(PackageLoader("digest.publish", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        cited=cited,
        cited_text=cited_text,
        week_range=week_range,
        day=day,
        anchor=anchor,
        issue_path=issue_path,
        theme_path=theme_path,
        story_path=story_path,
        making_path=making_path,
        theme_slug=theme_slug,
        published=published,
        story_sources=story_sources,
        story_anchor=story_anchor,
        story_link=story_link,
        sanitize=clean_html,
        reported=reported,
        linked_threads=linked_threads,
        reported_text=reported_text,
        said=said,
        said_text=said_text,
    )
    env.tests["web_url"] = is_web_url
    env.globals["stories"] = None  # a publish.stories.StoryIndex when the site has story pages
    return env


def render(env: Environment, name: str, **context: Any) -> str:
    """Template `name` rendered with context, control characters removed."""
    try:
        text = env.get_template(name).render(**context)
    except TemplateError as exc:
        raise PublishError(
            f"template {name!r} could not be rendered: {exc}; fix it in your template folder, "
            "or delete it there to use the packaged default"
        ) from exc
    return strip_control(text)
