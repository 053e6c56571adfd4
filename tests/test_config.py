"""Bad settings and source lists are refused with a message naming file, source and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_settings, load_sources
from digest.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_sources_and_settings_load() -> None:
    settings = load_settings(ROOT / "digest.toml")
    sources = load_sources(settings.sources)
    assert len(sources) >= 10
    names = " ".join(s.name for s in sources)
    for expected in (
        "arXiv cs.AI",
        "arXiv cs.CL",
        "arXiv cs.LG",
        "Hacker News",
        "r/MachineLearning",
        "r/LocalLLaMA",
        "Lobsters",
    ):
        assert expected in names


def test_bad_source_names_file_source_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - {name: Good, kind: feed, url: 'https://a.example/feed'}\n"
        "  - {name: Broken, kind: feed, url: 'ftp://b.example/feed', weight: 3}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    message = str(err.value)
    assert str(path) in message and "'Broken'" in message and "url" in message


def test_unknown_kind_and_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {name: X, kind: gopher, url: 'https://x.example/'}\n")
    with pytest.raises(ConfigError, match="kind"):
        load_sources(path)
    path.write_text(
        "sources:\n  - {name: X, kind: feed, url: 'https://x.example/'}\n"
        "  - {name: X, kind: feed, url: 'https://y.example/'}\n"
    )
    with pytest.raises(ConfigError, match="used twice"):
        load_sources(path)


def test_typo_in_settings_is_named(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text("[embed]\nmodle = 'x'\n")
    with pytest.raises(ConfigError, match=r"embed\.modle"):
        load_settings(path)


def test_store_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_STORE_URL", "sqlite:////tmp/elsewhere.db")
    assert load_settings().store.url == "sqlite:////tmp/elsewhere.db"
