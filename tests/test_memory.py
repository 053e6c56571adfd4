"""Analyze's memory across weeks, run against in-memory fakes of the store's protocols."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from digest.analyze.embed import MemoryCache
from digest.analyze.memory import compare_weeks, week_stories
from digest.models import Article, Story, Theme

WEEK_28 = datetime(2025, 7, 7, tzinfo=UTC)
WEEK_29 = WEEK_28 + timedelta(days=7)
TOPICS = ("kimi", "grok", "gemini")


class TopicEmbedder:
    """A unit vector per topic word in the text: same topic, same vector (pure logic test)."""

    name = "topics"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), len(TOPICS)), dtype=np.float32)
        for r, text in enumerate(texts):
            rows[r, [i for i, t in enumerate(TOPICS) if t in text.lower()]] = 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class FakeMemory:
    """StoryMemory and ThemeHistory in dicts, as the store keeps them in tables."""

    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}
        self.members: dict[str, str] = {}  # article id -> story id
        self.published: dict[str, str] = {}  # story id -> issue
        self.themes: dict[str, list[tuple[str, str, int, np.ndarray]]] = {}

    def story_of(self, article_ids: Sequence[str]) -> dict[str, str]:
        return {a: self.members[a] for a in article_ids if a in self.members}

    def story_members(self, since: datetime) -> dict[str, list[str]]:
        recent = {s for a, s in self.members.items() if self.articles[a].published_at >= since}
        out: dict[str, list[str]] = {}
        for a, s in sorted(self.members.items()):
            if s in recent:
                out.setdefault(s, []).append(a)
        return out

    def articles_by_id(self, ids: Sequence[str]) -> list[Article]:
        return [self.articles[i] for i in ids]

    def assign_stories(self, assignments: dict[str, str], first_seen: dict[str, datetime]) -> None:
        for a, s in assignments.items():
            self.members.setdefault(a, s)

    def published_in(self, story_ids: Sequence[str]) -> dict[str, str]:
        return {s: self.published[s] for s in story_ids if s in self.published}

    def week_themes(self, week: str) -> list[tuple[str, str, int, np.ndarray]]:
        return self.themes.get(week, [])

    def save_week_themes(
        self, week: str, themes: Sequence[tuple[str, str, int, np.ndarray]]
    ) -> None:
        self.themes[week] = list(themes)


def _article(n: int, title: str, at: datetime) -> Article:
    return Article(f"a{n}", f"https://news.example/{n}", title, "", "wire", at, f"h{n}")


def _week(memory: FakeMemory, articles: list[Article], start: datetime, issue: str) -> list[Story]:
    memory.articles.update({a.id: a for a in articles})
    stories, _ = week_stories(
        articles,
        memory,
        TopicEmbedder(),
        MemoryCache(),
        start,
        0.62,
        timedelta(days=14),
        issue,
    )
    return stories


def test_a_story_keeps_its_id_across_weeks_and_returns_as_an_update() -> None:
    memory = FakeMemory()
    first = [
        _article(1, "Kimi K2 released with open weights", WEEK_28 + timedelta(days=1)),
        _article(2, "Moonshot's Kimi K2 is out", WEEK_28 + timedelta(days=2)),
    ]
    (story,) = _week(memory, first, WEEK_28, "2025-w28")
    assert story.id == "s-a1" and not story.is_update
    memory.published[story.id] = "2025-w28"

    later = [
        _article(3, "Kimi K2 tops the open leaderboard", WEEK_29 + timedelta(days=1)),
        _article(4, "Grok 4 arrives with a price", WEEK_29 + timedelta(days=2)),
    ]
    stories = {s.id: s for s in _week(memory, later, WEEK_29, "2025-w29")}
    assert set(stories) == {"s-a1", "s-a4"}
    assert stories["s-a1"].is_update  # told in w28: never presented as new twice
    assert [a.id for a in stories["s-a1"].articles] == ["a3"]
    assert not stories["s-a4"].is_update


def test_themes_are_compared_with_last_weeks_and_kept_for_the_next() -> None:
    memory = FakeMemory()
    vector = TopicEmbedder().embed(["kimi"])[0]

    def theme(count: int) -> Theme:
        stories = tuple(Story(f"s{i}", "Kimi", ()) for i in range(count))
        return Theme("t-kimi", "Kimi K2", ("kimi",), stories)

    (w28,) = compare_weeks([theme(2)], {"t-kimi": vector}, memory, "2025-w28", "2025-w27")
    assert w28.trend == "new"
    (w29,) = compare_weeks([theme(4)], {"t-kimi": vector}, memory, "2025-w29", "2025-w28")
    assert (w29.trend, w29.previous_count, w29.previous_name) == ("rising", 2, "Kimi K2")
    assert [(i, n, c) for i, n, c, _ in memory.themes["2025-w29"]] == [("t-kimi", "Kimi K2", 4)]
