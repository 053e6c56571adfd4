"""Scores a built issue against labelled events: coverage, repeats, help share, story quality."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from pathlib import Path

from digest.analyze.evaluate import bcubed
from digest.errors import ConfigError
from digest.models import Issue
from digest.urls import canonical_id, canonical_url

# Clean same-story pairs that are not about AI: grouping checks only, never news to cover.
NOT_AI_EVENTS = frozenset({"iceblock-app-viral", "us-satellite-weather-data-cutoff"})
HELP_FLAIR = "Question | Help"
LARGEST = 8  # the week's events that coverage counts
MIN_ITEMS = 2  # labelled items an event needs in the week to count


@dataclass(frozen=True)
class LabelledItem:
    """One item of the data set: what links to it, when it was published, its flair."""

    item_id: str
    source: str
    published_at: datetime
    urls: tuple[str, ...]  # canonical URLs an article about it can carry
    flair: str = ""

    @property
    def is_reddit(self) -> bool:
        return self.item_id.startswith("reddit:")


@dataclass(frozen=True)
class Items:
    """The data set's items, and which of them an article (by id or URL) stands for."""

    by_id: Mapping[str, LabelledItem]
    by_key: Mapping[str, tuple[str, ...]]  # canonical URL or article id -> item ids

    def matching(self, article_id: str, url: str) -> set[str]:
        """Item ids an issue's article stands for (several when they share one URL)."""
        found = set(self.by_key.get(article_id, ()))
        if url:
            found.update(self.by_key.get(url, ()))
            with suppress(ValueError):
                found.update(self.by_key.get(canonical_url(url), ()))
        return found


@dataclass(frozen=True)
class Events:
    """Same-event labels: item id -> event slug, None for a judged singleton."""

    labels: Mapping[str, str | None]

    def members(self, event: str) -> list[str]:
        return [i for i, e in self.labels.items() if e == event]


@dataclass(frozen=True)
class StoryQuality:
    """A grouping measured on judged items: BCubed, and pairwise precision and recall."""

    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float  # over all judged items placed together
    pairwise_recall: float  # over pairs of items of one labelled event
    judged: int  # judged items the grouping placed


@dataclass(frozen=True)
class IssueScore:
    """How one issue covers its week's largest labelled events."""

    week: str
    events: tuple[str, ...]  # the week's largest events, largest first
    cited_events: tuple[str, ...]
    missed_events: tuple[str, ...]
    repeats: int  # entries beyond the first that cite one event
    repeated: Mapping[str, int] = field(default_factory=dict)  # event -> entries citing it
    cited_reddit: int = 0
    cited_help: int = 0
    off_topic_events: tuple[str, ...] = ()  # non-AI pairs the issue cites

    @property
    def coverage(self) -> float:
        return len(self.cited_events) / len(self.events) if self.events else 0.0

    @property
    def help_share(self) -> float:
        return self.cited_help / self.cited_reddit if self.cited_reddit else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "week": self.week,
            "coverage": round(self.coverage, 3),
            "events": list(self.events),
            "cited_events": list(self.cited_events),
            "missed_events": list(self.missed_events),
            "repeats": self.repeats,
            "repeated": dict(self.repeated),
            "help_share": round(self.help_share, 3),
            "cited_reddit": self.cited_reddit,
            "cited_help": self.cited_help,
            "off_topic_events": list(self.off_topic_events),
        }


def _rows(path: Path) -> Iterable[dict[str, object]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number} is not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "item_id" not in row:
            raise ConfigError(f"{path}:{number} has no item_id")
        yield row


def load_events(path: Path) -> Events:
    """The labels of events.dev.jsonl (`{"item_id", "event"}` a line)."""
    return Events(
        {str(r["item_id"]): (str(r["event"]) if r.get("event") else None) for r in _rows(path)}
    )


def _keys(url: object) -> list[str]:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return []
    try:
        canonical = canonical_url(url)
    except ValueError:
        return []
    return [canonical, canonical_id(canonical)]


def load_items(path: Path) -> Items:
    """The items of items.dev.jsonl, indexed by the canonical URLs and article ids they get."""
    by_id: dict[str, LabelledItem] = {}
    by_key: dict[str, list[str]] = {}
    for row in _rows(path):
        item_id = str(row["item_id"])
        keys = [k for u in (row.get("url"), row.get("permalink")) for k in _keys(u)]
        published = datetime.fromisoformat(str(row["published_at"]).replace("Z", "+00:00"))
        by_id[item_id] = LabelledItem(
            item_id,
            str(row.get("source") or ""),
            published.astimezone(UTC),
            tuple(k for k in dict.fromkeys(keys) if "://" in k),
            str(row.get("label_flair") or ""),
        )
        for key in dict.fromkeys(keys):
            by_key.setdefault(key, []).append(item_id)
    return Items(by_id, {k: tuple(v) for k, v in by_key.items()})


def week_bounds(week: date) -> tuple[datetime, datetime]:
    """The UTC start and end of the ISO week holding `week`."""
    monday = week - timedelta(days=week.weekday())
    start = datetime.combine(monday, time(), UTC)
    return start, start + timedelta(days=7)


def largest_events(week: date, events: Events, items: Items) -> tuple[str, ...]:
    """The week's largest AI events: at most 8, each with 2 or more items published that week."""
    start, end = week_bounds(week)
    counts = Counter(
        event
        for item_id, event in events.labels.items()
        if event
        and event not in NOT_AI_EVENTS
        and (item := items.by_id.get(item_id)) is not None
        and start <= item.published_at < end
    )
    ranked = sorted((e for e, n in counts.items() if n >= MIN_ITEMS), key=lambda e: (-counts[e], e))
    return tuple(ranked[:LARGEST])


def issue_entries(issue: Issue) -> list[list[tuple[str, str]]]:
    """Each entry of the issue as the (article id, url) pairs it cites.

    An entry is a story listed under a theme (its summary's citations of that story's
    articles included), a citation of a theme's summary outside its stories, a quick hit,
    a paper of the research corner, or a line of what to watch.
    """
    entries: list[list[tuple[str, str]]] = []
    for section in issue.sections:
        in_stories: set[str] = set()
        for story in section.theme.stories:
            entries.append([(a.id, a.url) for a in story.articles])
            in_stories.update(a.id for a in story.articles)
        entries.extend(
            [(c.article_id, c.url)] for c in section.citations if c.article_id not in in_stories
        )
    for note in (*issue.quick_hits, *issue.research, *issue.watch):
        origin = [note.origin] if note.origin else []
        entries.append([(c.article_id, c.url) for c in (*note.citations, *origin)])
    return entries


def score_issue(issue: Issue, week: date, events: Events, items: Items) -> IssueScore:
    """Coverage of the week's largest events, repeats, and the share of help threads cited."""
    largest = largest_events(week, events, items)
    per_entry: list[set[str]] = []
    cited_items: set[str] = set()
    for entry in issue_entries(issue):
        matched = {i for article_id, url in entry for i in items.matching(article_id, url)}
        cited_items |= matched
        per_entry.append({e for i in matched if (e := events.labels.get(i))})
    entries_per_event = Counter(e for found in per_entry for e in found)
    cited = {e for found in per_entry for e in found}
    reddit = [items.by_id[i] for i in cited_items if items.by_id[i].is_reddit]
    iso = week.isocalendar()
    return IssueScore(
        week=f"{iso[0]}-W{iso[1]:02d}",
        events=largest,
        cited_events=tuple(e for e in largest if e in cited),
        missed_events=tuple(e for e in largest if e not in cited),
        repeats=sum(n - 1 for n in entries_per_event.values()),
        repeated={e: n for e, n in sorted(entries_per_event.items()) if n > 1},
        cited_reddit=len(reddit),
        cited_help=sum(1 for i in reddit if i.flair == HELP_FLAIR),
        off_topic_events=tuple(sorted(cited & NOT_AI_EVENTS)),
    )


def item_groups(article_groups: Mapping[str, str], items: Items) -> dict[str, str]:
    """Article id -> story id turned into item id -> story id, for the items it can match."""
    return {
        item_id: story
        for key, story in article_groups.items()
        for item_id in items.by_key.get(key, ())
    }


def story_quality(
    predicted: Mapping[str, str], events: Events, only: Iterable[str] | None = None
) -> StoryQuality:
    """The grouping `predicted` (item id -> group) against the labels, over judged items placed.

    A judged singleton (event None) is its own gold group. `only` limits the items scored.
    """
    keep = set(only) if only is not None else None
    judged = [i for i in events.labels if i in predicted and (keep is None or i in keep)]
    gold = {i: events.labels[i] or f"singleton:{i}" for i in judged}
    b = bcubed({i: predicted[i] for i in judged}, gold)
    together = [(a, c) for a, c in combinations(judged, 2) if predicted[a] == predicted[c]]
    right = sum(1 for a, c in together if gold[a] == gold[c])
    event_pairs = [
        (a, c) for a, c in combinations(judged, 2) if events.labels[a] and gold[a] == gold[c]
    ]
    found = sum(1 for a, c in event_pairs if predicted[a] == predicted[c])
    return StoryQuality(
        bcubed_precision=b.precision,
        bcubed_recall=b.recall,
        bcubed_f1=b.f1,
        pairwise_precision=right / len(together) if together else 1.0,
        pairwise_recall=found / len(event_pairs) if event_pairs else 0.0,
        judged=len(judged),
    )


def published_in(week: date, items: Items) -> set[str]:
    """Ids of the items published in the ISO week holding `week`."""
    start, end = week_bounds(week)
    return {i for i, item in items.by_id.items() if start <= item.published_at < end}
