"""The email as an inbox and a phone show it: subject, preheader, text size, width at 375 px."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest import pipeline
from digest.config import EmailSettings, Settings, SiteSettings, StoreSettings
from digest.models import Issue
from digest.publish.inbox import PREHEADER_LIMIT, SUBJECT_LIMIT, fit, subject_line
from digest.store import Store
from digest.store.mailing import Mailing
from tests.browser import email_on_phone
from tests.issues import BASE_URL, two_weeks
from tests.smtp import smtp_server

PHONE = 375
HEADLINE = (
    "Coding agents ship to everyone as two labs open their sandboxes, their test writers "
    "and their price lists to every developer"
)
# A page title with no place to break it, as sources sometimes have.
UNBROKEN = "Benchmark-results-" + "x" * 90


def _long_issue() -> Issue:
    """The sample week 47 with a long lead headline and an unbreakable source title."""
    issue = two_weeks()[0]
    lead, *rest = issue.sections
    citations = (replace(lead.citations[0], title=UNBROKEN), *lead.citations[1:])
    lead = replace(lead, summary=replace(lead.summary, headline=HEADLINE), citations=citations)
    intro = "Coding agents reach every developer this week; an open speech model rivals " * 3
    return replace(issue, title=f"Week 47: {HEADLINE}", intro=intro.strip(), sections=(lead, *rest))


def _sent(tmp_path: Path, issue: Issue, monkeypatch: pytest.MonkeyPatch) -> EmailMessage:
    """The issue as one subscriber receives it from `send`, through a real SMTP server."""
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "inbox-secret-0123456789")
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    try:
        store.save_issue(issue)
        Mailing(store.engine).add([("Ada", "ada@example.net")])
        with smtp_server(tmp_path) as server:
            settings = Settings(
                store=StoreSettings(url=str(store.engine.url)),
                site=SiteSettings(base_url=BASE_URL, dir=tmp_path / "site"),
                email=EmailSettings(
                    smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none"
                ),
            )
            assert pipeline.send_issue(settings, store).result.sent == 1
        ((_, message),) = server.inbox.messages
    finally:
        store.close()
    return message


def test_fit_cuts_at_a_word_with_an_ellipsis() -> None:
    assert fit("short enough", 70) == "short enough"
    cut = fit(HEADLINE, 40)
    assert cut == "Coding agents ship to everyone as two\u2026" and len(cut) <= 40
    assert fit("one, two, three, four", 12) == "one, two\u2026"  # no dangling comma


def test_subject_is_short_and_names_the_top_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _sent(tmp_path, _long_issue(), monkeypatch)
    subject = str(message["Subject"])
    assert len(subject) <= SUBJECT_LIMIT
    assert subject.startswith("Week 47: Coding agents ship to everyone")


def test_a_cut_subject_keeps_the_name_its_lead_section_goes_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """W28's subject was cut before the launch it is about ("...to date: Grok\u2026"): the
    lead section's name leads it instead; a name already kept, or not in the headline
    (a topic's name), changes nothing."""
    issue = _long_issue()
    headline = "xAI has just announced its smartest AI models to date: Grok 4 and Grok 4 Heavy"
    lead = issue.sections[0]
    lead = replace(lead, theme=replace(lead.theme, name="Grok 4"))
    grok = replace(issue, title=f"Week 28: {headline}", sections=(lead, *issue.sections[1:]))
    subject = str(_sent(tmp_path, grok, monkeypatch)["Subject"])
    assert subject.startswith("Week 28: Grok 4 \u2013 xAI has just announced")
    assert len(subject) <= SUBJECT_LIMIT
    assert subject_line(issue).startswith("Week 47: Coding agents ship to everyone")
    short = replace(grok, title="Week 28: Grok 4 is out")
    assert subject_line(short) == "Week 28: Grok 4 is out"


def test_preheader_comes_first_hidden_and_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = _long_issue()
    message = _sent(tmp_path, issue, monkeypatch)
    body = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser").body
    first = body.find(True)
    assert "preheader" in first["class"]
    assert "display:none" in first["style"].replace(" ", "")
    text = first.get_text()
    assert text.startswith("Coding agents reach every developer this week")
    assert len(text) <= PREHEADER_LIMIT < len(issue.intro)


def test_email_reads_on_a_phone_in_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = email_on_phone(_sent(tmp_path, _long_issue(), monkeypatch), tmp_path, PHONE)
    assert view.width <= PHONE, f"the email is {view.width} px wide on a {PHONE} px screen"
    assert view.small_text == []
    assert view.link_sizes and min(view.link_sizes) >= 14


def test_every_story_link_of_the_email_is_listed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = _long_issue()
    message = _sent(tmp_path, issue, monkeypatch)
    html = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
    listed = [a["href"] for a in html.find_all("a") if a.find_parent("sup") is None]
    for section in issue.sections:
        for c in section.citations:
            assert listed.count(c.url) == 1, c.url
