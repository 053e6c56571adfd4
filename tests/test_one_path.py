"""One function makes the issue: `digest run` (the scheduler's path) and `digest build` agree."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest import cli
from digest.models import Issue
from digest.store import Store
from digest.store.mailing import Mailing

WEEK = "2025-W28"

NEWS = [
    ("Moonshot releases Kimi K2, a trillion-parameter open model", "kimi-k2", 11),
    ("Kimi K2 weights are on Hugging Face under a modified MIT licence", "kimi-k2-hf", 11),
    ("Kimi K2 tops open models on coding benchmarks", "kimi-k2-bench", 12),
    ("xAI launches Grok 4 with a livestream and new benchmarks", "grok-4", 10),
    ("Grok 4 is now available in the API for developers", "grok-4-api", 10),
    ("Mistral releases Devstral Small 1.1 for coding agents", "devstral", 10),
    ("Hugging Face releases SmolLM3, a small multilingual reasoning model", "smollm3", 8),
    ("Cognition agrees to buy Windsurf after Google hires its CEO", "windsurf", 13),
]
PAPERS = [
    ("Hierarchical reasoning models plan with two recurrent modules", "hrm", 9),
    ("Diffusion language models decode thousands of tokens a second", "mercury", 8),
    ("Sparse attention halves the memory of long-context transformers", "sparse", 9),
]


def _archive(path: Path, rows: list[tuple[str, str, int]], host: str) -> None:
    lines = [
        json.dumps(
            {
                "title": title,
                "text": f"{title}. The announcement gives details, numbers and dates.",
                "url": f"https://{host}/{slug}",
                "published_at": f"2025-07-{day:02d}T12:00:00Z",
            }
        )
        for title, slug, day in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _digest(config: Path, *args: str) -> None:
    assert cli.main([*args, "--config", str(config)]) == 0, args


@pytest.fixture
def crawled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A crawled store, its sources a news archive and a paper archive tagged `papers`."""
    monkeypatch.setattr(cli.console, "print", lambda *a, **_: None)
    data = tmp_path / "data"
    data.mkdir()
    _archive(data / "news.jsonl", NEWS, "news.example.com")
    _archive(data / "papers.jsonl", PAPERS, "papers.example.org")
    folder = tmp_path / "crawled"
    folder.mkdir()
    (folder / "sources.yaml").write_text(
        "sources:\n"
        f"  - {{name: AI News, kind: jsonl, path: {data / 'news.jsonl'}}}\n"
        f"  - {{name: Papers, kind: jsonl, path: {data / 'papers.jsonl'}, tags: [papers]}}\n",
        encoding="utf-8",
    )
    (folder / "digest.toml").write_text(
        '[store]\nurl = "sqlite:///digest.db"\n[site]\nbase_url = "https://d.example.com/"\n'
        '[email]\ndir = "email"\n[schedule]\naction = "draft"\n',
        encoding="utf-8",
    )
    _digest(folder / "digest.toml", "init")
    _digest(folder / "digest.toml", "crawl")
    return folder


def _same(issue: Issue) -> Issue:
    """The issue as a reader sees it: when it was built or published aside."""
    return replace(issue, built_at=datetime(2000, 1, 1, tzinfo=UTC), published_at=None)


def test_digest_run_drafts_the_issue_digest_build_publishes(crawled: Path) -> None:
    built, ran = crawled.with_name("built"), crawled.with_name("ran")
    shutil.copytree(crawled, built)
    shutil.copytree(crawled, ran)
    _digest(built / "digest.toml", "build", "--week", WEEK)
    _digest(ran / "digest.toml", "run", "--week", WEEK)
    store = Store(f"sqlite:///{built / 'digest.db'}", create=False)
    try:
        published = store.issue(WEEK.lower())
    finally:
        store.close()
    store = Store(f"sqlite:///{ran / 'digest.db'}", create=False)
    try:
        drafted = Mailing(store.engine).draft(WEEK.lower())
    finally:
        store.close()
    assert published is not None and drafted is not None
    # The papers of a source tagged `papers` make the research corner on both paths.
    assert {n.title for n in drafted.research} == {n.title for n in published.research} != set()
    assert _same(drafted) == _same(published)


def test_an_unchanged_week_keeps_the_draft_it_made_before(crawled: Path) -> None:
    _digest(crawled / "digest.toml", "draft", "--week", WEEK)
    store = Store(f"sqlite:///{crawled / 'digest.db'}", create=False)
    try:
        first = Mailing(store.engine).draft(WEEK.lower())
    finally:
        store.close()
    _digest(crawled / "digest.toml", "draft", "--week", WEEK, "--fresh")
    store = Store(f"sqlite:///{crawled / 'digest.db'}", create=False)
    try:
        again = Mailing(store.engine).draft(WEEK.lower())
    finally:
        store.close()
    assert first is not None and again == first  # its build time too: nothing changed
