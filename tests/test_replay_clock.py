"""DIGEST_NOW: replaying past weeks, the crawl's notion of now follows a simulated clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest import cli
from digest.store import Store


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli.console, "print", lambda *a, **_: None)
    archive = tmp_path / "news.jsonl"
    archive.write_text(
        json.dumps(
            {
                "title": "Kimi K2 is out",
                "url": "https://news.example.com/kimi-k2",
                "published_at": "2025-07-11T12:00:00Z",
            }
        )
        + "\n"
    )
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - {{name: News, kind: jsonl, path: {archive}, interval_minutes: 60}}\n"
    )
    path = tmp_path / "digest.toml"
    path.write_text('[store]\nurl = "sqlite:///digest.db"\n')
    assert cli.main(["init", "--config", str(path)]) == 0
    return path


def _crawled_at(config: Path, monkeypatch: pytest.MonkeyPatch, now: str) -> str | None:
    monkeypatch.setenv("DIGEST_NOW", now)
    assert cli.main(["crawl", "--config", str(config)]) == 0
    store = Store(f"sqlite:///{config.parent / 'digest.db'}", create=False)
    try:
        health = store.source_health()["News"]
    finally:
        store.close()
    return health.last_success.isoformat() if health.last_success else None


def test_a_source_is_due_by_the_simulated_clock(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _crawled_at(config, monkeypatch, "2025-07-14T08:00:00Z") == "2025-07-14T08:00:00+00:00"
    # Half an hour later by the simulated clock the source is not due: not fetched again.
    assert _crawled_at(config, monkeypatch, "2025-07-14T08:30:00Z") == "2025-07-14T08:00:00+00:00"
    assert _crawled_at(config, monkeypatch, "2025-07-14T16:00:00Z") == "2025-07-14T16:00:00+00:00"


def test_a_bad_simulated_clock_is_refused_before_anything_is_fetched(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_NOW", "next tuesday")
    assert cli.main(["crawl", "--config", str(config)]) != 0
    store = Store(f"sqlite:///{config.parent / 'digest.db'}", create=False)
    try:
        assert store.source_health() == {}  # nothing fetched, nothing recorded
    finally:
        store.close()
