"""Review before sending: the draft as Markdown, an editor's changes, and publishing them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest import pipeline
from digest.config import EmailSettings, Settings, SiteSettings, StoreSettings
from digest.errors import ConfigError, PublishError
from digest.models import Citation, Issue, Note, Sentence
from digest.publish.draft import apply_markdown, to_markdown
from digest.store import Store
from digest.store.mailing import Mailing
from tests.issues import BASE_URL, two_weeks
from tests.smtp import smtp_server


@pytest.fixture
def issue() -> Issue:
    newer = two_weeks()[0]
    paper = Note(
        Sentence("Sparse attention halves memory.", (1,)),
        (Citation(1, "p1", "https://arxiv.example.org/1", "Sparse", "arXiv"),),
    )
    first = newer.sections[0]
    summary = replace(first.summary, technical=(Sentence("It plans in a sandbox.", (2,)),))
    return replace(
        newer, research=(paper,), sections=(replace(first, summary=summary), newer.sections[1])
    )


def test_unedited_draft_gives_back_the_same_issue(issue: Issue) -> None:
    text = to_markdown(issue)
    assert "### Coding agents ship to everyone leads the week" in text
    assert "- Coding agents ship to everyone. [1]" in text
    assert "Technical breakdown:\n- It plans in a sandbox. [2]" in text
    assert apply_markdown(issue, text) == issue


def test_edits_change_text_order_and_remove(issue: Issue) -> None:
    text = to_markdown(issue)
    agents = text[text.index("## Agents at work") : text.index("## Audio models")]
    audio = text[text.index("## Audio models") : text.index("## Quick hits")]
    edited_agents = (
        agents.replace("### Coding agents ship to everyone leads the week", "### Agents for all")
        .replace("- Agent benchmarks saturate. [2]\n", "")
        .replace("- Agent benchmarks saturate {#s-agents-w47-2}\n", "")
        .replace(
            "- It plans in a sandbox. [2]", "- It plans inside a sandbox,\n  then acts. [2][1]"
        )
    )
    edited = text.replace(agents + audio, audio + edited_agents)
    edited = edited.replace("# digest — week 47", "# The digest — week 47")
    edited = edited.replace("- A small model tops a leaderboard in week 47. [1] {#1}\n", "")
    result = apply_markdown(issue, edited, "draft.md")
    assert [s.theme.id for s in result.sections] == ["audio", "agents"]
    agents_section = result.sections[1]
    assert agents_section.summary.headline == "Agents for all"
    assert [s.text for s in agents_section.summary.what_happened] == [
        "Coding agents ship to everyone."
    ]
    assert agents_section.summary.technical == (
        Sentence("It plans inside a sandbox, then acts.", (2, 1)),
    )
    assert [s.id for s in agents_section.theme.stories] == ["s-agents-w47-1"]
    assert result.title.startswith("The digest")
    assert result.quick_hits == () and result.research == issue.research


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("- Coding agents ship to everyone. [1]", "- Coding agents ship. [9]"),
            r"draft.md:\d+: cites \[9\]",
        ),
        (("{#audio}", "{#podcasts}"), r"no section \{#podcasts\}"),
        (
            ("What happened:", "What happened:\nStray words here"),
            r"draft.md:\d+: 'Stray words here'",
        ),
        (("{#s-agents-w47-1}", ""), r"story line without a known"),
    ],
)
def test_broken_edits_are_refused_with_the_line(
    issue: Issue, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(PublishError, match=message):
        apply_markdown(issue, to_markdown(issue).replace(*change, 1), "draft.md")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'digest.db'}"),
        site=SiteSettings(base_url=BASE_URL, dir=tmp_path / "site", drafts=tmp_path / "drafts"),
        email=EmailSettings(dir=tmp_path / "outbox", smtp_host="127.0.0.1", smtp_security="none"),
    )


def test_preview_then_publish_the_edited_draft(
    settings: Settings, issue: Issue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(settings.store.url)
    Mailing(store.engine).save_draft(issue)
    markdown = pipeline.draft_path(settings, issue.id)
    markdown.parent.mkdir(parents=True)
    markdown.write_text(to_markdown(issue).replace("leads the week", "is the story of the week"))
    preview = pipeline.preview_draft(settings, store)
    page = BeautifulSoup(preview.preview.read_text(), "html.parser")
    assert "Coding agents ship to everyone is the story of the week" in page.get_text()
    assert not (tmp_path / "site").exists() and store.issue(issue.id) is None

    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET", raising=False)
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET"):
        pipeline.publish_draft(settings, store)
    assert not (tmp_path / "site").exists()  # refused before anything was published

    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "x" * 32)
    Mailing(store.engine).add([("Ada", "ada@example.net")])
    with smtp_server(tmp_path) as server:
        mail = settings.email.model_copy(update={"smtp_port": server.port})
        # A hand-built issue: the editorial check (tested in test_check.py) is not the point.
        settings = settings.model_copy(update={"email": mail})
        report = pipeline.publish_draft(settings, store, force=True)
        assert server.inbox.recipients() == ["ada@example.net"]
    assert report.sent is not None and report.sent.result.sent == 1
    site = BeautifulSoup((tmp_path / "site" / "index.html").read_text(), "html.parser")
    assert "is the story of the week" in site.get_text()
    stored = store.issue(issue.id)
    assert stored is not None and "is the story of the week" in stored.sections[0].summary.headline
    _, message = server.inbox.messages[0]
    assert message["To"] == "Ada <ada@example.net>"
    assert "is the story of the week" in message.get_body(("plain",)).get_content()
    store.close()


def test_publish_without_a_draft_says_what_to_do(settings: Settings) -> None:
    store = Store(settings.store.url)
    with pytest.raises(PublishError, match="run `digest draft` first"):
        pipeline.publish_draft(settings, store, send=False)
    store.close()
