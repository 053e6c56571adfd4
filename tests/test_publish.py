"""The publish stage as readers meet it: pages, feed and email made from hand-built issues."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from bs4 import BeautifulSoup
from lxml import etree

from digest.errors import PublishError
from digest.models import (
    Article,
    Citation,
    Issue,
    Note,
    Section,
    Sentence,
    Story,
    Summary,
    Theme,
)
from digest.publish import PublishResult, PublishSettings, feeds, publish
from digest.store import Store
from tests.pages import assert_links_resolve, assert_no_executable_html

HOSTILE_TITLE = "Week 47: <script>alert(1)</script> ]]> </title> \x0bdone"
BASE_URL = "https://digest.example.com/"


def _theme(theme_id: str, name: str) -> Theme:
    article = Article(
        id=f"art-{theme_id}",
        url=f"https://news.example.org/{theme_id}-story",
        title=f"{name} story",
        summary=f"What happened in {name}.",
        source="Example News",
        published_at=datetime(2026, 11, 18, 9, 0, tzinfo=UTC),
        content_hash=f"h-{theme_id}",
    )
    story = Story(id=f"s-{theme_id}", title=f"Story about {name}", articles=(article,))
    return Theme(id=theme_id, name=name, keywords=(), stories=(story,))


@pytest.fixture
def issue() -> Issue:
    agents = Section(
        theme=_theme("agents", "Agents <b>go</b> to work"),
        summary=Summary(
            headline="Coding agents ship to everyone",
            what_happened=(
                Sentence("Two labs released coding agents this week.", (1, 2)),
                Sentence("One of them writes its own tests.", (2,)),
            ),
            why_it_matters=(Sentence("Agents now compete on price, not demos.", (1,)),),
            technical=(Sentence("Both run a planner over a sandboxed shell.", (2,)),),
            winners_losers=(Sentence("IDE vendors lose their moat.", (1,)),),
        ),
        citations=(
            Citation(1, "a1", "https://news.example.org/agents", "Agents launch", "Example News"),
            Citation(2, "a2", "javascript:alert(1)", "A </title> trap ]]>", "Bad Source"),
        ),
    )
    chips = Section(
        theme=_theme("chips", "Chips & supply"),
        summary=Summary(
            headline="A new accelerator is announced",
            what_happened=(Sentence("A vendor announced a new accelerator.", (3,)),),
            why_it_matters=(Sentence("Training may get cheaper next year.", (3,)),),
        ),
        citations=(
            Citation(3, "a3", "http://chips.example.net/x?a=1&b=2", "New chip", "Chip Wire"),
        ),
    )
    hit = Note(
        sentence=Sentence("A small model tops a leaderboard.", (4,)),
        citations=(Citation(4, "a4", "https://hits.example.com/lb", "Leaderboard", "LB Blog"),),
    )
    paper = Note(
        sentence=Sentence("Sparse attention halves memory at long context.", (1,)),
        citations=(Citation(1, "p1", "https://arxiv.example.org/abs/1", "Sparse paper", "arXiv"),),
    )
    watch = Note(
        sentence=Sentence("Open weights for the agent are due next month.", (1,)),
        citations=(Citation(1, "w1", "https://news.example.org/soon", "Coming soon", "News"),),
    )
    return Issue(
        id="2026-W47",
        title=HOSTILE_TITLE,
        week_start=date(2026, 11, 16),
        week_end=date(2026, 11, 22),
        built_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        intro="A busy week for agents and chips.",
        sections=(agents, chips),
        quick_hits=(hit,),
        research=(paper,),
        watch=(watch,),
    )


@pytest.fixture
def older(issue: Issue) -> Issue:
    return replace(
        issue,
        id="2026-W46",
        title="Week 46",
        week_start=date(2026, 11, 9),
        week_end=date(2026, 11, 15),
        built_at=datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
    )


def _settings(tmp_path: Path, template_dir: Path | None = None) -> PublishSettings:
    return PublishSettings(
        site_dir=tmp_path / "out" / "site",
        email_dir=tmp_path / "out" / "email",
        base_url=BASE_URL,
        site_title="digest",
        template_dir=template_dir,
    )


@pytest.fixture
def result(tmp_path: Path, issue: Issue, older: Issue) -> PublishResult:
    return publish(issue, [older, issue], _settings(tmp_path))


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _cite_links(soup: BeautifulSoup) -> dict[str, set[str]]:
    """Each [n] label with a link, mapped to the URLs it links to."""
    links: dict[str, set[str]] = {}
    for sup in soup.find_all("sup"):
        for a in sup.find_all("a"):
            links.setdefault(a.get_text(), set()).add(str(a["href"]))
    return links


def test_pages_show_every_theme_with_cited_sentences(result: PublishResult, issue: Issue) -> None:
    for page in (result.index, result.issue_page):
        soup = _soup(page)
        headings = [h.get_text() for h in soup.find_all("h2")]
        assert [s.theme.name for s in issue.sections] == headings[: len(issue.sections)]
        assert headings[len(issue.sections) :] == ["Quick hits", "Research corner", "What to watch"]
        assert len(soup.find_all("h3", string="Why it matters")) == 2
        assert len(soup.find_all("h3", string="Technical breakdown")) == 1
        assert len(soup.find_all("h3", string="Who wins, who loses")) == 1
        assert soup.find(id="story-s-agents").find("a")["href"] == (
            "https://news.example.org/agents-story"
        )
        assert "16\u201322 November 2026" in soup.get_text()
        assert soup.find("section", attrs={"aria-labelledby": "agents"}).find(id="agents")
        assert _cite_links(soup) == {
            "[1]": {
                "https://news.example.org/agents",
                "https://arxiv.example.org/abs/1",
                "https://news.example.org/soon",
            },
            "[3]": {"http://chips.example.net/x?a=1&b=2"},
            "[4]": {"https://hits.example.com/lb"},
        }
        sources = soup.find("ol", class_="sources")
        assert [li.get_text(" ", strip=True) for li in sources.find_all("li")] == [
            "Agents launch — Example News",
            "A </title> trap ]]> — Bad Source",
        ]


def test_unsafe_citation_url_stays_text(result: PublishResult) -> None:
    soup = _soup(result.issue_page)
    unlinked = [sup for sup in soup.find_all("sup") if sup.get_text() == "[2]"]
    assert len(unlinked) == 3  # two in what happened, one in the technical breakdown
    assert all(sup.find("a") is None for sup in unlinked)


def test_pages_are_accessible_and_run_only_our_script(result: PublishResult) -> None:
    site_dir = result.index.parent
    pages = sorted(str(p.relative_to(site_dir)) for p in site_dir.rglob("*.html"))
    assert pages == [
        "archive/index.html",
        "index.html",
        "issues/2026-W46/index.html",
        "issues/2026-W47/index.html",
        "search/index.html",
        "subscribe/index.html",
        "themes/agents/index.html",
        "themes/chips/index.html",
        "themes/index.html",
    ]
    for page in site_dir.rglob("*.html"):
        soup = _soup(page)
        assert_no_executable_html(soup, page)
        csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp
        assert soup.find("html")["lang"] == "en"
        assert all(soup.find(name) for name in ("header", "main", "footer", "nav"))
        assert soup.find("main")["id"] == "content"
        assert soup.find("a", class_="skip")["href"] == "#content"
        assert soup.find("label", attrs={"for": "site-search"})
        signup = soup.find("form", class_="subscribe")  # on every page, posting to one place
        assert signup["method"] == "post" and signup.find("input", type="email")["name"] == "email"
        assert (page.parent / signup["action"]).resolve() == (site_dir / "subscribe").resolve()
        assert "\x0b" not in page.read_text(encoding="utf-8")
    title = _soup(result.issue_page).find("h1").get_text()
    assert title == HOSTILE_TITLE.replace("\x0b", "")


def test_issue_page_has_opengraph_canonical_and_feed_discovery(result: PublishResult) -> None:
    soup = _soup(result.issue_page)
    og = {m["property"]: m["content"] for m in soup.find_all("meta", property=True)}
    assert og["og:url"] == f"{BASE_URL}issues/2026-W47/"
    assert og["og:title"] == HOSTILE_TITLE.replace("\x0b", "")
    assert og["og:description"] == "A busy week for agents and chips."
    assert og["og:type"] == "article"
    assert soup.find("link", rel="canonical")["href"] == f"{BASE_URL}issues/2026-W47/"
    feeds_found = {link["type"]: link["href"] for link in soup.find_all("link", rel="alternate")}
    assert feeds_found == {
        "application/atom+xml": "../../feed.xml",
        "application/rss+xml": "../../rss.xml",
    }
    theme = _soup(result.index.parent / "themes" / "agents" / "index.html")
    assert [link["href"] for link in theme.find_all("link", rel="alternate")][2:] == [
        "feed.xml",
        "rss.xml",
    ]


def test_theme_pages_gather_stories_across_issues(result: PublishResult) -> None:
    site_dir = result.index.parent
    theme = _soup(site_dir / "themes" / "agents" / "index.html")
    assert theme.find("h1").get_text() == "Agents <b>go</b> to work"
    links = [a["href"] for a in theme.find("main").find_all("a") if "#story-" in a["href"]]
    assert links == [
        "../../issues/2026-W47/index.html#story-s-agents",
        "../../issues/2026-W46/index.html#story-s-agents",
    ]
    listing = _soup(site_dir / "themes" / "index.html").find("main").get_text(" ")
    assert "Agents <b>go</b> to work" in listing and "2 issues" in listing


def test_search_index_and_sitemap(result: PublishResult) -> None:
    site_dir = result.index.parent
    entries = json.loads((site_dir / "search.json").read_text())
    urls = {e["u"] for e in entries}
    assert "issues/2026-W46/index.html#story-s-chips" in urls
    assert "issues/2026-W47/index.html#research" in urls
    sitemap = ElementTree.parse(site_dir / "sitemap.xml").getroot()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text for loc in sitemap.findall("s:url/s:loc", ns)]
    assert f"{BASE_URL}issues/2026-W47/" in locs and f"{BASE_URL}themes/chips/" in locs
    assert locs[0] == BASE_URL


def test_site_links_work_from_files(result: PublishResult, issue: Issue, older: Issue) -> None:
    site_dir = result.index.parent
    assert_links_resolve(site_dir)
    archive = _soup(site_dir / "archive" / "index.html")
    items = archive.find("ol", class_="issues").find_all("li", recursive=False)
    assert [li.find("a").get_text() for li in items] == [issue.title.replace("\x0b", ""), "Week 46"]
    assert "Agents <b>go</b> to work · Chips & supply" in items[0].get_text()
    assert "9\u201315 November 2026" in items[1].get_text()


@pytest.mark.parametrize("name", ["feed.xml", "rss.xml"])
def test_feed_has_one_stable_entry_per_issue(result: PublishResult, name: str) -> None:
    raw = (result.index.parent / name).read_bytes()
    etree.fromstring(raw)  # well-formed XML, parsed strictly
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0
    assert parsed.version == ("atom10" if name == "feed.xml" else "rss20")
    assert [e.id for e in parsed.entries] == [
        f"{BASE_URL}issues/2026-W47/",
        f"{BASE_URL}issues/2026-W46/",
    ]
    newest = parsed.entries[0]
    assert newest.title == HOSTILE_TITLE.replace("\x0b", "")
    assert newest.link == f"{BASE_URL}issues/2026-W47/"
    content = BeautifulSoup(newest.content[0].value, "html.parser")
    assert_no_executable_html(content, name, allow_our_script=False)
    assert _cite_links(content)["[3]"] == {"http://chips.example.net/x?a=1&b=2"}
    assert [h.get_text() for h in content.find_all("h2")][-3:] == [
        "Quick hits",
        "Research corner",
        "What to watch",
    ]


@pytest.mark.parametrize("name", ["feed.xml", "rss.xml"])
def test_theme_feed_has_an_entry_per_issue_section(result: PublishResult, name: str) -> None:
    parsed = feedparser.parse((result.index.parent / "themes" / "chips" / name).read_bytes())
    assert parsed.bozo == 0
    assert [e.id for e in parsed.entries] == [
        f"{BASE_URL}issues/2026-W47/#chips",
        f"{BASE_URL}issues/2026-W46/#chips",
    ]
    assert parsed.entries[0].title == "Chips & supply: A new accelerator is announced"
    assert "A vendor announced a new accelerator." in parsed.entries[0].content[0].value


def test_feed_ids_survive_a_new_issue(tmp_path: Path, issue: Issue, older: Issue) -> None:
    first = publish(older, [older], _settings(tmp_path))
    before = {e.id: e.link for e in feedparser.parse(first.feed.read_bytes()).entries}
    second = publish(issue, [older, issue], _settings(tmp_path))
    after = {e.id: e.link for e in feedparser.parse(second.feed.read_bytes()).entries}
    assert before.items() <= after.items()


def test_email_has_text_and_inlined_html(result: PublishResult, issue: Issue) -> None:
    assert result.email.name == "2026-W47.eml"
    message = email.message_from_bytes(result.email.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == HOSTILE_TITLE.replace("\x0b", "")
    assert message["From"] == "digest <digest@example.com>"
    assert message["Message-ID"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "== Agents <b>go</b> to work ==" in text
    assert "Two labs released coding agents this week. [1][2]" in text
    assert "https://news.example.org/agents" in text
    assert "javascript:" not in text
    assert "== Research corner ==" in text and "== What to watch ==" in text
    assert "Technical breakdown:\nBoth run a planner over a sandboxed shell. [2]" in text
    html = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
    assert html.find("style") is None
    assert html.find("h1")["style"]
    assert_no_executable_html(html, "email", allow_our_script=False)
    assert html.find("a", string="Unsubscribe")["href"] == f"{BASE_URL}unsubscribe/"
    assert html.find("a", string="View this issue online")["href"] == f"{BASE_URL}issues/2026-W47/"
    assert html.find("script") is None
    assert _cite_links(html)["[3]"] == {"http://chips.example.net/x?a=1&b=2"}


def test_publishing_twice_gives_identical_files(
    tmp_path: Path, issue: Issue, older: Issue, result: PublishResult
) -> None:
    before = _files(tmp_path / "out")
    publish(issue, [issue, older], _settings(tmp_path))
    assert _files(tmp_path / "out") == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["email", "site"]


def test_user_template_overrides_by_name(tmp_path: Path, issue: Issue) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "issue.html").write_text(
        '{% extends "base.html" %}{% block content %}<p id="custom">Custom {{ issue.title }}'
        "</p>{% endblock %}",
        encoding="utf-8",
    )
    result = publish(issue, [issue], _settings(tmp_path, templates))
    custom = _soup(result.issue_page)
    assert custom.find(id="custom").get_text().startswith("Custom Week 47: <script>")
    assert_no_executable_html(custom, "custom issue.html")
    assert custom.find("footer") is not None  # base.html still comes from the package
    assert _soup(result.index).find("h2", id="agents") is not None


def test_failed_build_keeps_previous_site(
    tmp_path: Path, issue: Issue, older: Issue, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = publish(older, [older], _settings(tmp_path))
    before = first.index.read_bytes()

    def broken_feed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(feeds, "write_feeds", broken_feed)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(issue, [older, issue], _settings(tmp_path))
    assert first.index.read_bytes() == before
    assert not (first.index.parent / "issues" / "2026-W47").exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["email", "site"]


def test_sentence_citing_a_missing_source_is_refused(tmp_path: Path, issue: Issue) -> None:
    section = issue.sections[1]
    bad = replace(section, summary=replace(section.summary, why_it_matters=(Sentence("x", (9,)),)))
    with pytest.raises(PublishError, match=r"cites \[9\]"):
        publish(replace(issue, sections=(bad,)), [], _settings(tmp_path))
    assert not (tmp_path / "out" / "site").exists()


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", ""])
def test_issue_id_that_is_not_a_folder_name_is_refused(
    tmp_path: Path, issue: Issue, bad_id: str
) -> None:
    with pytest.raises(PublishError, match="issue id"):
        publish(replace(issue, id=bad_id), [], _settings(tmp_path))


def test_base_url_must_be_http(tmp_path: Path, issue: Issue) -> None:
    settings = replace(_settings(tmp_path), base_url="digest.example.com")
    with pytest.raises(PublishError, match="base_url"):
        publish(issue, [issue], settings)


def test_stored_issue_reads_back_equal(tmp_path: Path, issue: Issue) -> None:
    """An issue saved to the store re-renders exactly as built, for the archive."""
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    store.save_issue(issue)
    assert store.issue(issue.id) == issue
    assert store.issues() == [issue]
