"""A page per story: its reports across weeks as a dated timeline, and the issues that told it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from digest.models import Article, Citation, Issue
from digest.publish.render import story_path


@dataclass(frozen=True)
class StoryRecord:
    """One story as the store keeps it: every article, and the issues that carried it."""

    id: str
    title: str
    articles: tuple[Article, ...]  # oldest first
    issues: tuple[str, ...]  # ids of the issues that told it, oldest first

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct sources that reported the story, first to report first."""
        return tuple(dict.fromkeys(a.source for a in self.articles))


@dataclass(frozen=True)
class Moment:
    """One entry of a story's timeline: its first report or an update, and what was new."""

    day: date
    first: bool
    articles: tuple[Article, ...]
    issue: Issue | None  # the issue that told this part, when one did


def timeline(record: StoryRecord, issues: Mapping[str, Issue]) -> list[Moment]:
    """The story's articles grouped by the issue whose week they fell in (else by their own
    ISO week), oldest first; the first group is the first report, the others updates."""
    carried = [issues[i] for i in record.issues if i in issues]
    groups: dict[str, tuple[Issue | None, list[Article]]] = {}
    for article in record.articles:
        day = article.published_at.date()
        issue = next((i for i in carried if i.week_start <= day <= i.week_end), None)
        year, week, _ = day.isocalendar()
        key = issue.id if issue is not None else f"{year}-w{week:02d}"
        groups.setdefault(key, (issue, []))[1].append(article)
    ordered = sorted(groups.values(), key=lambda g: min(a.published_at for a in g[1]))
    return [
        Moment(
            min(a.published_at for a in articles).date(),
            position == 0,
            tuple(sorted(articles, key=lambda a: (a.published_at, a.id))),
            issue,
        )
        for position, (issue, articles) in enumerate(ordered)
    ]


class StoryIndex:
    """Which stories have a page, for the templates: an update links to its story's page."""

    def __init__(self, records: Iterable[StoryRecord] = ()) -> None:
        self._records = {r.id: r for r in records}
        self._by_article = {a.id: r for r in self._records.values() for a in r.articles}

    def __bool__(self) -> bool:
        return bool(self._records)

    def page(self, story_id: str) -> str:
        """The story page's path from the site root; '' when the story has none."""
        return story_path(story_id) if story_id in self._records else ""

    def update(self, issue_id: str, citations: Sequence[Citation]) -> str:
        """The page of the story the first cited article tells, when an issue before
        `issue_id` told that story already; else ''."""
        record = next((self._by_article.get(c.article_id) for c in citations[:1]), None)
        if record is None or issue_id not in record.issues or record.issues[0] == issue_id:
            return ""
        return story_path(record.id)
