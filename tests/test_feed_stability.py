"""Feeds a reader can rely on: publication dates, and ids and theme URLs that never churn."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from bs4 import BeautifulSoup

from digest.models import Issue
from digest.publish import PublishSettings, publish
from digest.store import Store
from tests.issues import BASE_URL, two_weeks

FIRST_BUILD = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
REBUILD = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)


def _settings(tmp_path: Path) -> PublishSettings:
    return PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)


def _entries(path: Path) -> list[tuple[str, str, str]]:
    feed = feedparser.parse(path.read_bytes())
    return [(e.id, e.published, e.updated) for e in feed.entries]


def _with_theme(issue: Issue, theme_id: str, name: str, slug: str) -> Issue:
    """The issue with its first theme renamed as a week's keywords would rename it."""
    lead = issue.sections[0]
    theme = replace(lead.theme, id=theme_id, name=name, slug=slug)
    return replace(issue, sections=(replace(lead, theme=theme), *issue.sections[1:]))


def test_entry_dates_are_the_publication_date_across_rebuilds(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    try:
        issue = replace(two_weeks()[0], built_at=FIRST_BUILD, published_at=None)
        first = store.save_issue(issue)
        assert first.published_at is not None and first.published_at >= FIRST_BUILD
        publish(first, store.issues(), _settings(tmp_path))
        before = _entries(tmp_path / "site" / "feed.xml")
        rebuilt = replace(issue, built_at=REBUILD, intro="A corrected intro.")
        again = store.save_issue(rebuilt)
        publish(again, store.issues(), _settings(tmp_path))
        after = _entries(tmp_path / "site" / "feed.xml")
    finally:
        store.close()
    assert again.published_at == first.published_at
    assert after == before
    published = first.published_at.isoformat()
    assert [(date, updated) for _, date, updated in after] == [(published, published)]
    assert REBUILD.isoformat() not in (tmp_path / "site" / "feed.xml").read_text()


def test_theme_feed_url_and_ids_follow_the_slug_across_weeks(tmp_path: Path) -> None:
    newer, older = two_weeks()
    older = _with_theme(older, "agents-travel-spreadsheets", "Agents · Travel", "coding-agents")
    newer = _with_theme(newer, "agents-benchmarks-ship", "Agents · Benchmarks", "coding-agents")
    publish(older, [], _settings(tmp_path))
    publish(newer, [older], _settings(tmp_path))
    site = tmp_path / "site"
    themes = sorted(p.name for p in (site / "themes").iterdir() if p.is_dir())
    assert themes == ["audio", "chips", "coding-agents"]  # one folder for both weeks' theme
    ids = [entry_id for entry_id, _, _ in _entries(site / "themes" / "coding-agents" / "feed.xml")]
    assert ids == [
        f"{BASE_URL}issues/2026-w47/#coding-agents",
        f"{BASE_URL}issues/2026-w46/#coding-agents",
    ]
    page = BeautifulSoup((site / "issues/2026-w47/index.html").read_text(), "html.parser")
    assert page.find("h2", id="coding-agents")
    label = page.find("p", class_="label").find("a")["href"]
    assert label == "../../themes/coding-agents/index.html"


def test_theme_without_a_slug_keeps_todays_url(tmp_path: Path) -> None:
    newer, _ = two_weeks()
    assert newer.sections[0].theme.slug == ""
    publish(newer, [], _settings(tmp_path))
    assert (tmp_path / "site" / "themes" / "agents" / "feed.xml").is_file()


def test_two_sections_of_one_topic_keep_their_own_anchors(tmp_path: Path) -> None:
    newer, _ = two_weeks()
    first, second = newer.sections
    same = replace(
        newer,
        sections=(
            replace(first, theme=replace(first.theme, slug="agents")),
            replace(second, theme=replace(second.theme, slug="agents")),
        ),
    )
    publish(same, [], _settings(tmp_path))
    page = BeautifulSoup(
        (tmp_path / "site" / "issues" / same.id / "index.html").read_text(), "html.parser"
    )
    assert [h["id"] for h in page.select("section.theme > h2")] == ["agents", "agents-2"]
    assert [a["href"] for a in page.select("nav.toc a")][:2] == ["#agents", "#agents-2"]
