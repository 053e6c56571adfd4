"""A launch the whole week talks about, told as a section of its own named after it."""

from __future__ import annotations

import re
from collections import Counter

from digest.analyze.topics import slugify
from digest.models import Story, Theme, readable_name

# Stories of at least this many articles are big enough to lead a section of their own.
BIG_STORY = 6
# A product's name and its version as titles write it: "Kimi K2", "Grok 4", "EXAONE 4.0".
_NAMED_VERSION = re.compile(r"\b([A-Z][A-Za-z]{2,})[ -]?([A-Z]?\d[\w.]*)(?![\w-])")


def named_versions(title: str) -> dict[str, str]:
    """The title's product names with their version, by key ("kimik2" -> "Kimi K2")."""
    return {(m[1] + m[2]).lower(): f"{m[1]} {m[2]}" for m in _NAMED_VERSION.finditer(title)}


def version_stem(key: str) -> str:
    """A name-and-version key without its version ("grok4" -> "grok"; a mark before it stays)."""
    return re.sub(r"\d.*", "", key)


def event_name(story: Story) -> str | None:
    """The name and version most of the story's titles use ("Kimi K2"), if at least a third
    of them use it; None otherwise."""
    found: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for article in story.articles:
        for key, form in named_versions(article.title).items():
            found[key] += 1
            forms.setdefault(key, Counter())[form] += 1
    if not found:
        return None
    key, count = found.most_common(1)[0]
    name = forms[key].most_common(1)[0][0]
    return name if 3 * count >= len(story.articles) and readable_name(name) else None


def event_section(story: Story, lead: bool = False) -> Theme | None:
    """A section of the one story, named after it, when it is big and has a name; a story
    that leads the week (`lead`) has one however big, named "" unless it is big and named (a
    few posts' name and number, "CUDA 12.9" or "Pro 6000", is not the story's)."""
    name = event_name(story) if len(story.articles) >= BIG_STORY else None
    if name is None and not lead:
        return None
    slug = slugify(name or story.id)
    return Theme(slug, name or "", (), (story,), slug=slug)
