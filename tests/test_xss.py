"""Hostile titles, authors, summaries and links: nothing executable in site, feeds or email."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from lxml import etree

from digest.publish import PublishResult, PublishSettings, publish
from digest.publish.sanitize import clean_html
from tests.issues import BASE_URL, HOSTILE_URLS, hostile_issue, two_weeks
from tests.pages import assert_links_resolve, assert_no_executable_html


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> PublishResult:
    out = tmp_path_factory.mktemp("xss")
    settings = PublishSettings(
        site_dir=out / "site", email_dir=out / "email", base_url=BASE_URL, site_title="digest"
    )
    issue = hostile_issue()
    return publish(issue, [issue, *two_weeks()], settings)


def _hrefs(soup: BeautifulSoup) -> list[str]:
    return [str(a.get("href")) for a in soup.find_all("a")]


def test_site_pages_carry_nothing_executable(published: PublishResult) -> None:
    site = published.index.parent
    for page in site.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert_no_executable_html(soup, page)
        for url in HOSTILE_URLS:
            if not url.startswith("https:"):
                assert url.strip() not in _hrefs(soup), page
    text = published.issue_page.read_text(encoding="utf-8")
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in text  # shown as text, not dropped
    # A quote inside an http URL stays inside the attribute: the link is odd but inert.
    soup = BeautifulSoup(text, "html.parser")
    assert HOSTILE_URLS[3] in _hrefs(soup)
    assert "{{ 7*7 }}" in text and "49" not in text
    assert "\x00" not in text and "\x0b" not in text
    assert_links_resolve(site)


def test_search_index_is_data(published: PublishResult) -> None:
    raw = (published.index.parent / "search.json").read_text()
    entries = json.loads(raw)
    assert any("<script>window.pwned=1</script>" in e["t"] for e in entries)
    assert "<" not in raw  # escaped as \\u003c even though it is never parsed as HTML


@pytest.mark.parametrize(
    "feed", ["feed.xml", "rss.xml", "themes/evil/feed.xml", "themes/evil/rss.xml"]
)
def test_feeds_are_valid_xml_and_inert(published: PublishResult, feed: str) -> None:
    raw = (published.index.parent / feed).read_bytes()
    etree.fromstring(raw)
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    hostile = parsed.entries[0]
    assert "]]>" in hostile.title and "</title>" in hostile.title
    for entry in parsed.entries:
        content = BeautifulSoup(entry.content[0].value, "html.parser")
        assert_no_executable_html(content, feed, allow_our_script=False)
        assert not any(
            h.lower().lstrip().startswith(("javascript", "data")) for h in _hrefs(content)
        )


def test_email_is_inert(published: PublishResult) -> None:
    message = email.message_from_bytes(published.email.read_bytes(), policy=email.policy.default)
    assert "\n" not in str(message["Subject"]) and "\x00" not in str(message["Subject"])
    html = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
    assert_no_executable_html(html, "email", allow_our_script=False)
    text = message.get_body(("plain",)).get_content()
    links = [line.split("] ", 1)[1] for line in text.splitlines() if line.startswith("    [")]
    assert links and all(link.startswith(("http://", "https://")) for link in links)


def test_allowlist_drops_what_templates_never_write() -> None:
    dirty = (
        '<p onclick="x()">a<script>bad()</script><a href="javascript:x()">j</a>'
        '<a href="data:text/html,x">d</a><a href="https://ok.example/">ok</a>'
        '<iframe src="https://evil.example/"></iframe><img src=x onerror=y()></p>'
    )
    cleaned = BeautifulSoup(clean_html(dirty), "html.parser")
    assert_no_executable_html(cleaned, "clean_html", allow_our_script=False)
    assert [a.get("href") for a in cleaned.find_all("a")] == [None, None, "https://ok.example/"]
    assert cleaned.find("img") is None and "bad()" not in str(cleaned)


def test_no_header_can_be_injected(tmp_path: Path) -> None:
    issue = replace(two_weeks()[0], title="Hello\r\nBcc: victim@example.com\nX-Evil: 1")
    settings = PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)
    result = publish(issue, [], settings)
    raw = result.email.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.com X-Evil: 1"


ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.parametrize(
    "feed", ["feed.xml", "rss.xml", "themes/evil/feed.xml", "themes/evil/rss.xml"]
)
def test_text_fields_read_as_html_stay_text(published: PublishResult, feed: str) -> None:
    """RSS description and Atom type="html" fields are HTML inside XML: a headline such as
    '"><svg onload=...>' must reach the reader's HTML parser as escaped text."""
    root = etree.fromstring((published.index.parent / feed).read_bytes())
    if feed.endswith("rss.xml"):
        fields = root.iter("description")
    else:
        fields = (
            e
            for e in root.iter(f"{ATOM}summary", f"{ATOM}subtitle", f"{ATOM}title")
            if e.get("type") == "html"
        )
    shown = []
    for field in fields:
        markup = BeautifulSoup(field.text or "", "html.parser")
        assert markup.find() is None, (feed, field.text)  # no element at all: only text
        shown.append(markup.get_text())
    assert any('"><svg onload="window.pwned=1">' in text for text in shown), shown


@pytest.mark.parametrize(
    "word", ["=?UTF-8?Q?=0A?=", "=?UTF-8?Q?=0D?=", "=?UTF-8?B?DQo=?=", "=?UTF-8?Q?=00=0B=1B?=",
             "=?UTF-8?Q?=C2=85?=", "=?UTF-8?Q?=E2=80=A8?=", "=?UTF-8?B?PT9VVEYtOD9RPz0wQT89?="]
)  # fmt: skip
def test_encoded_control_characters_are_folded(tmp_path: Path, word: str) -> None:
    issue = replace(two_weeks()[0], title=f"Hello {word}Bcc: victim@example.com")
    settings = PublishSettings(tmp_path / "site", tmp_path / "email", BASE_URL)
    raw = publish(issue, [], settings).email.read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.startswith(b"Bcc") for line in head.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None
    assert str(message["Subject"]).startswith("Hello") and "Bcc: victim" in message["Subject"]
    assert not any(c in str(message["Subject"]) for c in "\r\n\x00\x0b\x1b\x85\u2028")
