"""Topic subscriptions: the topics a reader may choose, and an issue cut down to their choice."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from digest.models import Issue
from digest.publish.render import strip_control, theme_slug

TOP_SECTIONS = 1  # the issue's lead themes, kept in every reader's email whatever they chose


def topic_choices(issues: Sequence[Issue]) -> list[tuple[str, str]]:
    """(slug, name) of every topic the published issues have had, by its newest name;
    issues newest first."""
    found: dict[str, str] = {}
    for issue in issues:
        for section in issue.sections:
            found.setdefault(
                theme_slug(section.theme), " ".join(strip_control(section.theme.name).split())
            )
    return sorted(found.items(), key=lambda item: item[1].lower())


def issue_for_topics(issue: Issue, topics: Collection[str]) -> Issue:
    """The issue with only the sections of the chosen topics, after its top stories (the
    lead sections); quick hits, the research corner and what to watch stay. No topics
    chosen: the whole issue."""
    if not topics:
        return issue
    kept = tuple(
        section
        for n, section in enumerate(issue.sections)
        if n < TOP_SECTIONS or theme_slug(section.theme) in topics
    )
    return replace(issue, sections=kept)
