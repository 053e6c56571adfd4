"""An issue page as an editor would send it: contents first, one list of sources per story."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup

from digest.models import Article, Citation, Issue, Note, Section, Sentence, Story
from digest.publish import PublishSettings, publish
from digest.publish.render import story_sources
from digest.write.compose import with_origin
from digest.write.extractive import retitled
from tests.issues import BASE_URL, two_weeks


def _article(key: str) -> Article:
    return Article(
        id=f"a-{key}",
        url=f"https://news.example.org/{key}",
        title=f"Page {key}",
        summary="",
        source=f"Source {key[0].upper()}",
        published_at=datetime(2026, 11, 18, tzinfo=UTC),
        content_hash=key,
    )


def _busy_section(section: Section) -> Section:
    """The section with a story told by two articles, a story not cited, and a loose citation."""
    told = Story("s-told", "Two outlets tell it", (_article("a1"), _article("b1")))
    quiet = Story("s-quiet", "A story nobody cites", (_article("c1"),))
    cited = [Citation(n, a.id, a.url, a.title, a.source) for n, a in enumerate(told.articles, 1)]
    loose = Citation(3, "a-loose", "https://other.example.org/x", "Other page", "Other")
    citations = (*cited, loose)
    theme = replace(section.theme, stories=(told, quiet))
    return replace(section, theme=theme, citations=citations)


def _issue() -> Issue:
    issue = two_weeks()[0]
    return replace(issue, sections=(_busy_section(issue.sections[0]), *issue.sections[1:]))


def test_story_sources_groups_citations_by_story() -> None:
    section = _busy_section(two_weeks()[0].sections[0])
    listed = story_sources(section)
    assert [(s.id, [c.number for c in cites]) for s, cites in listed.cited] == [("s-told", [1, 2])]
    assert [s.id for s in listed.more] == ["s-quiet"]
    assert [c.number for c in listed.loose] == [3]


def test_each_story_lists_its_sources_once(tmp_path: Path) -> None:
    issue = _issue()
    publish(issue, [], PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL))
    page = tmp_path / "site" / "issues" / issue.id / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    section = soup.find("section", attrs={"aria-labelledby": "agents"})
    listed = [a["href"] for a in section.find_all("a") if a.find_parent("sup") is None]
    told = section.find(id="story-s-told")
    assert [a["href"] for a in told.find_all("a")] == [
        "https://news.example.org/a1",
        "https://news.example.org/b1",
    ]
    assert told.get_text(" ", strip=True) == "[1] Page a1 — Source A · [2] Page b1 — Source B"
    for url in (
        "https://news.example.org/a1",
        "https://news.example.org/b1",
        "https://news.example.org/c1",
        "https://other.example.org/x",
    ):
        assert listed.count(url) == 1, url
    more = section.find("details", class_="more")
    assert more.find("summary").get_text() == "1 more story on this theme"
    assert more.find(id="story-s-quiet").find("a")["href"] == "https://news.example.org/c1"
    assert [h.get_text() for h in section.find_all("h3")] == [
        "What happened",
        "Why it matters",
        "Sources",
    ]


def test_table_of_contents_lists_every_section(tmp_path: Path) -> None:
    issue = _issue()
    publish(issue, [], PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL))
    for page in ("index.html", f"issues/{issue.id}/index.html"):
        soup = BeautifulSoup((tmp_path / "site" / page).read_text(encoding="utf-8"), "html.parser")
        toc = soup.find("nav", class_="toc")
        targets = [a["href"] for a in toc.find_all("a")]
        assert targets == ["#agents", "#audio", "#quick-hits"]
        assert all(soup.find(id=t[1:]).name == "h2" for t in targets)
        assert toc.find_next("h2")["id"] == "agents"  # the contents come before the first story


def test_a_quick_hit_told_from_a_thread_links_the_release_itself(tmp_path: Path) -> None:
    thread = replace(
        _article("t1"),
        url="https://www.reddit.com/r/LocalLLaMA/comments/1",
        title="Mistral released Devstral-Small-2507, and it is good",
        source="r/LocalLLaMA",
    )
    page = replace(
        _article("m1"),
        url="https://huggingface.co/mistralai/Devstral-Small-2507",
        title="mistralai/Devstral-Small-2507",
        source="r/LocalLLaMA",
    )
    story = Story("s-devstral", thread.title, (page, thread))
    line = Note(
        Sentence("Mistral released Devstral-Small-2507.", (1,)),
        (Citation(1, thread.id, thread.url, thread.title, thread.source),),
    )
    hit = with_origin(line, story)
    assert hit.origin is not None and hit.origin.url == page.url
    # A line cited to the model's page itself needs no origin.
    own = replace(line, citations=(replace(line.citations[0], article_id=page.id),))
    assert with_origin(own, story).origin is None
    issue = replace(_issue(), quick_hits=(hit,))
    publish(issue, [], PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL))
    soup = BeautifulSoup((tmp_path / "site" / "index.html").read_text("utf-8"), "html.parser")
    item = soup.find("ul", class_="quick-hits").find("li")
    assert [a["href"] for a in item.find_all("a")] == [thread.url, page.url]
    email = next((tmp_path / "email").glob("*.eml")).read_text("utf-8")
    assert f"Origin: {page.url}" in email


def test_a_quick_hit_told_from_a_post_that_opens_on_a_repository_links_it(
    tmp_path: Path,
) -> None:
    """W27: the whistleblower's thread opens on the whistleblower's repository; the reader
    gets that repository after the line, not only the thread. A post that first links the
    poster's blog is not a post of the repository it links next."""
    thread = "https://www.reddit.com/r/LocalLLaMA/comments/1lsz4hk/huaweis_pangu/"
    repo = "https://github.com/HW-whistleblower/True-Story-of-Pangu"
    post = replace(
        _article("w1"),
        url=thread,
        discussion_url=thread,
        title="Huawei's Pangu AI rocked by unverified claims of fraud",
        summary=f"[{repo}]({repo})\nafter reading the translation, is it true?",
        source="r/LocalLLaMA",
    )
    story = Story("s-pangu", post.title, (post,))
    line = Note(
        Sentence("Huawei's Pangu AI is rocked by unverified claims of fraud.", (1,)),
        (Citation(1, post.id, post.url, post.title, post.source),),
    )
    hit = with_origin(line, story)
    assert hit.origin is not None and hit.origin.url == repo
    aside = replace(post, summary=f"My notes: https://example.dev/pangu, then {repo}")
    assert with_origin(line, Story("s-aside", aside.title, (aside,))).origin is None
    publish(
        replace(_issue(), quick_hits=(hit,)),
        [],
        PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL),
    )
    soup = BeautifulSoup((tmp_path / "site" / "index.html").read_text("utf-8"), "html.parser")
    item = soup.find("ul", class_="quick-hits").find("li")
    assert [a["href"] for a in item.find_all("a")] == [thread, repo]
    assert (
        item.find("a", class_="origin").get_text()
        == "github.com/HW-whistleblower/True-Story-of-Pangu"
    )
    email = next((tmp_path / "email").glob("*.eml")).read_text("utf-8")
    assert f"Origin: {repo}" in email


def test_a_picture_post_links_its_thread_not_the_bare_picture(tmp_path: Path) -> None:
    """A Reddit post of a chart ("Kimi K2 tops creative writing benchmark") is told from its
    thread: the headline and its sources go there, not to a bare .jpeg with no words."""
    thread = "https://www.reddit.com/r/LocalLLaMA/comments/1m0b73m/kimi_k2_tops/"
    chart = replace(
        _article("k1"),
        url="https://i.redd.it/q48f55vcpwcf1.jpeg",
        discussion_url=thread,
        title="Kimi K2 tops creative writing benchmark",
        source="r/LocalLLaMA",
    )
    page = replace(_article("p1"), url="https://example.org/chart.png")  # no thread: as given
    assert chart.href == thread and page.href == page.url
    story = retitled(Story("s-kimi", chart.title, (chart,)))
    assert story.href == thread
    issue = _issue()
    section = issue.sections[0]
    number = len(section.citations) + 1
    cited = Citation(number, chart.id, chart.href, chart.title, chart.source)
    told = replace(
        section,
        theme=replace(section.theme, stories=(story,)),
        summary=replace(section.summary, headline=story.title, headline_link=story.href),
        citations=(*section.citations, cited),
    )
    publish(
        replace(issue, sections=(told,)),
        [],
        PublishSettings(tmp_path / "s", tmp_path / "e", BASE_URL),
    )
    soup = BeautifulSoup((tmp_path / "s" / "index.html").read_text("utf-8"), "html.parser")
    links = [a["href"] for a in soup.select("main a[href]")]
    assert thread in links and not any("i.redd.it" in x for x in links)
