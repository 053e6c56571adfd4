"""A page per story and a "How this issue was made" page, as a reader finds them: the demo's
sample week, then a second week crawled from a loopback server (one of its sources down) in
which a sample-week story continues; real store, real pipeline, headless Chromium."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from digest import cli, pipeline
from digest.analyze.embed import Embedder
from digest.cli.setup import SAMPLE_WEEK, demo_settings
from digest.config import Settings
from digest.models import Issue
from digest.ops import Operations, jobs
from digest.pipeline import load_embedder
from digest.pipeline.pages import keep_making, publish_site
from digest.publish import (
    Making,
    PublishSettings,
    SourceTally,
    StoryRecord,
    making_from_json,
    making_to_json,
    publish,
)
from digest.publish.site import SiteRecords
from digest.store import Store
from digest.store.runs import RunLog
from digest.urls import article_id
from digest.write import WriteReport
from tests.browser import ARTIFACTS, chromium, phone_screen
from tests.issues import BASE_URL, PAYLOADS, hostile_issue, two_weeks
from tests.loopback import Reply, serve
from tests.pages import assert_links_resolve, assert_no_executable_html

WEEK_1, WEEK_2 = date(2026, 11, 16), date(2026, 11, 23)
WIRE = Path(__file__).parent / "data" / "week48" / "wire.xml"
# The sample week's first report of DeepSeek-R3, and the second week's follow-up.
FIRST_REPORT = "DeepSeek-R3: open weights, MIT license, 685B MoE"
FOLLOW_UP = "https://aiwire.example/2026/11/24/deepseek-r3-technical-report/"
WEEK_2_SOURCES = """sources:
  - name: "AI Wire"
    kind: feed
    url: "{base}/wire.xml"
  - name: "Broken Feed"
    kind: feed
    url: "{base}/broken.xml"
"""


@dataclass
class TwoWeeks:
    out: Path
    site: Path
    story: str  # the DeepSeek-R3 story's id, as week 1 stored it
    week_1_pages: list[str]  # story page folders after week 1
    week_1_articles: int
    week_2_articles: int


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoWeeks]:
    out = tmp_path_factory.mktemp("storypages")
    loaded: dict[str, Embedder] = {}

    def load(settings: Settings) -> Embedder:
        if settings.embed.model not in loaded:
            loaded[settings.embed.model] = load_embedder(settings)
        return loaded[settings.embed.model]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "load_embedder", load)
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        assert cli.main(["demo", "--out", str(out)]) == 0
    site = out / "site"
    week_1_pages = sorted(p.name for p in (site / "stories").iterdir())
    settings = demo_settings(out)
    store = Store(settings.store.url)
    try:
        with sqlite3.connect(out / "digest.db") as db:
            (story,) = db.execute(
                "select story_id from story_articles join articles on id = article_id "
                "where title = ?",
                (FIRST_REPORT,),
            ).fetchone()
        routes = {
            "/wire.xml": Reply(WIRE.read_bytes(), "application/rss+xml"),
            "/broken.xml": Reply(b"upstream exploded", status=500),
        }
        with serve(routes) as server:
            (out / "week2.yaml").write_text(WEEK_2_SOURCES, encoding="utf-8")
            sources = pipeline.load_sources(out / "week2.yaml", base=server.base)
            ops = Operations(settings, store)
            jobs.crawl(ops, sources, pipeline.fetch_policy(settings), force=True)
        embedder = load(settings)
        pipeline.build(settings, store, sources, WEEK_2, embedder)
        week_1_articles = len(store.articles_between(WEEK_1, WEEK_2))
        week_2_articles = len(store.articles_between(WEEK_2, date(2026, 11, 30)))
        yield TwoWeeks(out, site, story, week_1_pages, week_1_articles, week_2_articles)
    finally:
        store.close()


def _text(driver: Any, selector: str) -> list[str]:
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())"
    texts: list[str] = driver.execute_script(script, selector)
    return texts


def _severe(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.slow
def test_story_ids_stay_the_same_across_weeks_and_rebuilds(weeks: TwoWeeks) -> None:
    with sqlite3.connect(weeks.out / "digest.db") as db:
        follow_up = db.execute(
            "select story_id from story_articles where article_id = ?", (article_id(FOLLOW_UP),)
        ).fetchone()
    assert follow_up == (weeks.story,)  # the follow-up joined week 1's story, id kept
    assert weeks.story in weeks.week_1_pages
    # Week 1 made again from the same store: the same stories keep the same pages.
    settings = demo_settings(weeks.out)
    store = Store(settings.store.url)
    try:
        sources = pipeline.load_sources(SAMPLE_WEEK / "sources.yaml", base="http://127.0.0.1:9")
        pipeline.build(settings, store, sources, WEEK_1)
    finally:
        store.close()
    pages = {p.name for p in (weeks.site / "stories").iterdir()}
    assert set(weeks.week_1_pages) <= pages
    assert_links_resolve(weeks.site)


@pytest.mark.slow
def test_story_page_shows_first_report_and_update_with_dates_and_all_sources(
    weeks: TwoWeeks,
) -> None:
    page = weeks.site / "stories" / weeks.story / "index.html"
    with chromium() as driver:
        driver.get(page.as_uri())
        moments = _text(driver, ".timeline > .moment")
        sources = _text(driver, "ul.sources > li")
        issue_links = driver.execute_script(
            "return [...document.querySelectorAll('.moment .when a')].map(a => a.href)"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "story-page.png"))
        assert _severe(driver) == []
        made = weeks.site / "issues" / "2026-w48" / "made" / "index.html"
        with phone_screen(driver):
            for shown in (page, made):  # a phone never scrolls sideways
                driver.get(shown.as_uri())
                width = driver.execute_script("return document.documentElement.scrollWidth")
                assert width <= 375, (shown, width)
    assert len(moments) == 2, moments
    first, update = moments
    assert first.lower().startswith("17 november 2026 first report")
    assert FIRST_REPORT in first
    assert update.lower().startswith("24 november 2026 update")
    assert "DeepSeek-R3 technical report explains" in update  # what was new
    assert [link.split("/site/")[1] for link in issue_links] == [
        "issues/2026-w47/index.html",
        "issues/2026-w48/index.html",
    ]
    named = [line.split(":")[0] for line in sources]
    for source in ("Hacker News", "r/LocalLLaMA", "TechCrunch AI", "AI Wire"):
        assert source in named, named


@pytest.mark.slow
def test_update_in_week_two_links_to_its_story_page(weeks: TwoWeeks) -> None:
    issue = weeks.site / "issues" / "2026-w48" / "index.html"
    with chromium() as driver:
        driver.get(issue.as_uri())
        links = driver.find_elements("css selector", "a.story-page")
        targets = [a.get_attribute("href") for a in links]
        assert any(t.endswith(f"/stories/{weeks.story}/index.html") for t in targets), targets
        links[targets.index(next(t for t in targets if weeks.story in t))].click()
        assert driver.current_url.endswith(f"/stories/{weeks.story}/index.html")
        assert "Timeline" in _text(driver, "main h2")
    # Week 1 told it first: nothing there is an update.
    first_week = BeautifulSoup((weeks.site / "issues/2026-w47/index.html").read_text(), "lxml")
    assert first_week.select("a.story-page") == []
    # ...and each of its stories reaches its own page through "timeline".
    timelines = {a["href"] for a in first_week.select("a.story-timeline")}
    assert f"../../stories/{weeks.story}/index.html" in timelines


@pytest.mark.slow
def test_how_made_page_counts_match_the_runs(weeks: TwoWeeks) -> None:
    with chromium() as driver:
        driver.get((weeks.site / "issues" / "2026-w48" / "index.html").as_uri())
        driver.find_element("link text", "How this issue was made").click()
        assert driver.current_url.endswith("/issues/2026-w48/made/index.html")
        counts = dict(
            driver.execute_script(
                "return [...document.querySelectorAll('.counts strong')]"
                ".map(e => [e.id, e.innerText])"
            )
        )
        crawled = _text(driver, ".crawl-sources > li")
        failed = _text(driver, ".crawl-sources > li.failed")
        assert _severe(driver) == []
        driver.get((weeks.site / "issues" / "2026-w47" / "made" / "index.html").as_uri())
        first = dict(
            driver.execute_script(
                "return [...document.querySelectorAll('.counts strong')]"
                ".map(e => [e.id, e.innerText])"
            )
        )
    home = BeautifulSoup((weeks.site / "index.html").read_text(), "lxml")
    made_link = home.find("a", string="How this issue was made")
    assert made_link is not None and made_link["href"] == "issues/2026-w48/made/index.html"
    # Week 2: its own crawl only (two sources, one down), its own articles.
    assert counts["count-sources"] == "2" and counts["count-failed"] == "1"
    assert counts["count-crawls"] == "1"
    assert counts["count-articles"] == str(weeks.week_2_articles) == "4"
    assert len(failed) == 1 and failed[0].startswith("Broken Feed: failed")
    assert "500" in failed[0]  # the reason the crawl gave
    assert [line for line in crawled if line.startswith("AI Wire: ok")]
    assert counts["count-calls"] == "0" and counts["count-cost"] == "$0"
    checked, passed = int(counts["count-checked"]), int(counts["count-passed"])
    assert checked > 0 and passed + int(counts["count-dropped"]) == checked
    # Week 1: the demo's crawl of the twelve sample feeds, all up.
    assert first["count-sources"] == "12" and first["count-failed"] == "0"
    assert first["count-articles"] == str(weeks.week_1_articles)
    with sqlite3.connect(weeks.out / "digest.db") as db:
        body = db.execute("select body from issue_making where issue_id = '2026-w47'").fetchone()
    assert json.loads(body[0])["checked"] == int(first["count-checked"])


def _hostile_making(issue_id: str) -> Making:
    evil = " ".join(PAYLOADS)
    return Making(
        issue_id=issue_id,
        made_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        crawls=1,
        first_crawl=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
        last_crawl=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
        sources=(SourceTally(f"Feed {evil}", 1, 1, f"answered {evil}", 0),),
        articles=3,
        considered=3,
        stories=2,
        themes=1,
        told=2,
        writer="extractive",
        checked=4,
        dropped=(("not supported by its sources", 1),),
        fallbacks=(f"theme {evil}",),
    )


def test_story_and_made_pages_carry_nothing_executable(tmp_path: Path) -> None:
    """Feed text and crawl errors are untrusted: escaped, and the allowlist on top."""
    issue = hostile_issue()
    story = issue.sections[0].theme.stories[0]
    records = SiteRecords(
        (StoryRecord(story.id, story.title, story.articles, (issue.id,)),),
        {issue.id: making_from_json(making_to_json(_hostile_making(issue.id)))},
    )
    settings = PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)
    publish(issue, [], settings, records)
    site = tmp_path / "site"
    pages = [
        site / "stories" / story.id / "index.html",
        site / "issues" / issue.id / "made/index.html",
    ]
    for page in pages:
        assert_no_executable_html(BeautifulSoup(page.read_text(encoding="utf-8"), "lxml"), page)
    made = BeautifulSoup(pages[1].read_text(encoding="utf-8"), "lxml")
    assert made.select_one(".crawl-sources li.failed") is not None
    assert made.select_one("#count-dropped").get_text() == "1"


def _with_update(issue: Issue, earlier: Issue) -> tuple[Issue, StoryRecord]:
    """The issue with its first story told as an update of `earlier`, and that story's record."""
    section = issue.sections[0]
    story = replace(section.theme.stories[0], is_update=True)
    theme = replace(section.theme, stories=(story, *section.theme.stories[1:]))
    updated = replace(issue, sections=(replace(section, theme=theme), *issue.sections[1:]))
    return updated, StoryRecord(story.id, story.title, story.articles, (earlier.id, issue.id))


def test_an_update_in_a_section_links_its_story_page_on_the_site_and_in_the_email(
    tmp_path: Path,
) -> None:
    newer, older = two_weeks()
    newer, record = _with_update(newer, older)
    settings = PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)
    result = publish(newer, [older], settings, SiteRecords((record,)))
    page = BeautifulSoup(result.issue_page.read_text(encoding="utf-8"), "lxml")
    links = [a["href"] for a in page.select("section.theme a.story-page")]
    assert links == [f"../../stories/{record.id}/index.html"]
    assert (result.index.parent / "stories" / record.id / "index.html").is_file()
    message = email.message_from_bytes(result.email.read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",))
    assert html is not None
    assert f'href="{BASE_URL}stories/{record.id}/index.html"' in html.get_content()
    site = result.index.parent
    assert f"{BASE_URL}stories/{record.id}/index.html" in (site / "feed.xml").read_text()
    assert f"<loc>{BASE_URL}stories/{record.id}/</loc>" in (site / "sitemap.xml").read_text()
    assert_links_resolve(result.index.parent)


def test_without_story_records_an_update_is_only_marked(tmp_path: Path) -> None:
    newer, older = two_weeks()
    newer, _ = _with_update(newer, older)
    settings = PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)
    result = publish(newer, [older], settings)
    page = BeautifulSoup(result.issue_page.read_text(encoding="utf-8"), "lxml")
    assert page.select("a.story-page") == []
    assert [t.get_text() for t in page.select("section.theme .tag")] == ["update"]
    assert not (result.index.parent / "stories").exists()
    assert page.find("a", string="How this issue was made") is None


def _crawl_run(log: RunLog, at: datetime, errors: dict[str, str]) -> None:
    run = log.start_run("crawl", "test", at)
    log.finish_run(run, "ok", at, errors=errors, sources=("Lab Blog", "Broken Feed"))


def _made(store: Store, issue_id: str) -> Making:
    return making_from_json(store.makings()[issue_id][1])


def test_each_crawl_counts_for_the_first_issue_made_after_it(tmp_path: Path) -> None:
    newer, older = two_weeks()
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    log = RunLog(store)
    settings = Settings()
    try:
        failure = "https://bot:pw@feeds.example.com/rss?token=s3cret answered 500"
        _crawl_run(log, datetime(2026, 11, 15, 8, tzinfo=UTC), {"Broken Feed": failure})
        older = replace(older, built_at=datetime(2026, 11, 16, 9, tzinfo=UTC))
        keep_making(store, settings, older, 0, WriteReport("extractive"), fresh=True)
        _crawl_run(log, datetime(2026, 11, 20, 8, tzinfo=UTC), {})
        newer = replace(newer, built_at=datetime(2026, 11, 23, 9, tzinfo=UTC))
        keep_making(store, settings, newer, 0, WriteReport("extractive"), fresh=True)
        # The older week made again, changed, after the newer one: still its own crawl only.
        again = replace(older, built_at=datetime(2026, 11, 24, 9, tzinfo=UTC), intro="Edited.")
        keep_making(store, settings, again, 0, WriteReport("extractive"), fresh=True)
        # The newer week made again unchanged: the first run's record stands.
        later = replace(newer, built_at=datetime(2026, 11, 25, 9, tzinfo=UTC))
        keep_making(store, settings, later, 0, WriteReport("extractive"), fresh=False)
        first, second = _made(store, older.id), _made(store, newer.id)
    finally:
        store.close()
    assert (first.crawls, [s.status for s in first.failed_sources]) == (1, ["failed"])
    # Published without the feed's user, password or query (a private feed's token).
    assert first.failed_sources[0].error == "https://feeds.example.com/rss answered 500"
    assert first.made_at == again.built_at
    assert (second.crawls, second.failed_sources, second.made_at) == (1, (), newer.built_at)


def test_a_story_page_stays_when_a_rebuilt_issue_no_longer_tells_the_story(
    tmp_path: Path,
) -> None:
    _, issue = two_weeks()
    stories = [s for section in issue.sections for s in section.theme.stories]
    settings = demo_settings(tmp_path)
    store = Store(settings.store.url)
    try:
        store.add_crawled([a for s in stories for a in s.articles], issue.built_at)
        store.assign_stories(
            {a.id: s.id for s in stories for a in s.articles},
            {s.id: s.articles[0].published_at for s in stories},
        )
        store.save_issue(issue)
        dropped = issue.sections[-1].theme.stories[0]
        rebuilt = store.save_issue(replace(issue, sections=issue.sections[:-1]))
        publish_site(store, rebuilt, settings)
    finally:
        store.close()
    page = settings.site.dir / "stories" / dropped.id / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    assert soup.h1 is not None and soup.h1.get_text() == dropped.title
    assert "in no issue" in soup.select_one(".moment").get_text()
