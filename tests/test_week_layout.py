"""A real week's issue (2025-W28) as a reader meets it: its email on a phone, its page's shape."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest import cli
from digest.publish.inbox import SUBJECT_LIMIT
from digest.publish.render import story_anchor
from tests.browser import chromium, email_on_phone, phone_screen
from tests.smtp import smtp_server
from tests.week28 import BuiltWeek, build_week28

pytestmark = pytest.mark.slow
PHONE = 375
EMAIL_HTML_LIMIT = 80 * 1024  # Gmail clips messages past 102 KB
# What a reader can scroll through: with a list of stories and a list of sources per theme the
# 2025-W28 page was 9,449 px tall at 1,200 px wide and 13,598 px on a 375 px phone; now about
# 6,200 and 9,000 (bench/issue_layout.py).
DESKTOP_HEIGHT_LIMIT = 8_000
PHONE_HEIGHT_LIMIT = 12_000


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> BuiltWeek:
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"shared evaluation data not found at {shared}; the real week is built from it")
    return build_week28(shared, tmp_path_factory.mktemp("week28"))


@pytest.fixture(scope="module")
def message(week: BuiltWeek, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmailMessage]:
    """The issue as a subscriber receives it: `digest subscribers add`, then `digest send`."""
    folder = tmp_path_factory.mktemp("smtp")
    with pytest.MonkeyPatch.context() as mp, smtp_server(folder) as server:
        mp.setenv("DIGEST_UNSUBSCRIBE_SECRET", "week28-secret-0123456789")
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        config = week.config.with_name("send.toml")
        config.write_text(
            week.config.read_text(encoding="utf-8").replace(
                "[email]\n",
                f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
                'smtp_security = "none"\n',
            ),
            encoding="utf-8",
        )
        assert cli.main(["subscribers", "--config", str(config), "add", "ada@example.net"]) == 0
        assert cli.main(["send", "--config", str(config)]) == 0
        ((_, received),) = server.inbox.messages
        yield received


def test_email_subject_is_short_and_names_the_top_story(
    week: BuiltWeek, message: EmailMessage
) -> None:
    subject = str(message["Subject"])
    lead = week.issue.sections[0].summary.headline
    assert len(subject) <= SUBJECT_LIMIT, subject
    assert " ".join(lead.split()[:3]) in subject, (subject, lead)


def test_email_is_small_and_has_a_preheader(week: BuiltWeek, message: EmailMessage) -> None:
    html = message.get_body(("html",)).get_content()
    size = len(html.encode("utf-8"))
    assert size <= EMAIL_HTML_LIMIT, f"{size} bytes of HTML"
    first = BeautifulSoup(html, "html.parser").body.find(True)
    assert "preheader" in first["class"]
    assert first.get_text()[:40] == week.issue.intro[:40]


def test_email_reads_on_a_phone(message: EmailMessage, tmp_path: Path) -> None:
    view = email_on_phone(message, tmp_path, PHONE)
    assert view.width <= PHONE, f"{view.width} px wide"
    assert view.small_text == [] and min(view.link_sizes) >= 14


def test_issue_page_has_contents_headlines_sources_and_a_bearable_height(
    week: BuiltWeek,
) -> None:
    page = week.site / "issues" / week.issue.id / "index.html"
    with chromium(1200, 900) as d:
        d.get(page.as_uri())
        toc = d.execute_script(
            "return [...document.querySelectorAll('nav.toc a')].map(a => a.hash)"
        )
        headings = d.execute_script(
            "return [...document.querySelectorAll('main section > h2')].map(h => '#' + h.id)"
        )
        order = d.execute_script(
            "return [...document.querySelectorAll('section.theme')].map(s =>"
            " s.querySelector('h2').getBoundingClientRect().bottom"
            " <= s.querySelector('.label').getBoundingClientRect().top)"
        )
        desktop = d.execute_script("return document.documentElement.scrollHeight")
        with phone_screen(d, PHONE):
            d.get(page.as_uri())
            phone = d.execute_script("return document.documentElement.scrollHeight")
            wide = d.execute_script("return document.documentElement.scrollWidth")
    assert toc == headings and len(toc) >= len(week.issue.sections)
    assert order == [True] * len(week.issue.sections)
    assert desktop <= DESKTOP_HEIGHT_LIMIT, f"{desktop} px tall at 1200 px wide"
    assert phone <= PHONE_HEIGHT_LIMIT and wide <= PHONE, f"{phone} px tall, {wide} px wide"


def test_each_story_lists_its_sources_once(week: BuiltWeek) -> None:
    page = week.site / "issues" / week.issue.id / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    sections = soup.find_all("section", class_="theme")
    assert len(sections) == len(week.issue.sections)
    for html, section in zip(sections, week.issue.sections, strict=True):
        # The headline links its lead source (issue 15: the lab's own page); lists name each once.
        listed = [a["href"] for ul in html.find_all("ul") for a in ul.find_all("a")]
        for c in section.citations:
            assert listed.count(c.url.strip()) == 1, c.url
        for story in section.theme.stories:
            assert len(html.find_all(id=story_anchor(story))) == 1, story.id
