"""Bad settings and source lists are refused with a message naming file, source and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import cli
from digest.config import load_settings
from digest.crawl.sources import load_sources
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


def test_relative_paths_follow_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "site-a").mkdir()
    (tmp_path / "elsewhere").mkdir()
    config = tmp_path / "site-a" / "digest.toml"
    config.write_text('[store]\nurl = "sqlite:///data/digest.db"\n[site]\ndir = "public"\n')
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = load_settings(Path("../site-a/digest.toml"))
    assert settings.store.url == f"sqlite:///{tmp_path / 'site-a' / 'data' / 'digest.db'}"
    assert settings.site.dir.resolve() == tmp_path / "site-a" / "public"
    config.write_text('[store]\nurl = "postgresql+psycopg://u@db.example/digest"\n')
    assert load_settings(config).store.url == "postgresql+psycopg://u@db.example/digest"


def test_status_from_another_folder_reads_the_configs_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site-a").mkdir()
    (tmp_path / "elsewhere").mkdir()
    config = tmp_path / "site-a" / "digest.toml"
    config.write_text('[store]\nurl = "sqlite:///digest.db"\n')
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.chdir(tmp_path / "site-a")
    assert cli.main(["init", "--config", "digest.toml"]) == 0
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert cli.main(["init", "--config", str(config)]) == 0  # it exists: nothing to do
    assert "exists already" in capsys.readouterr().out
    assert cli.main(["status", "--config", str(config)]) == 0
    assert f"sqlite:///{tmp_path / 'site-a' / 'digest.db'}" in capsys.readouterr().out
    assert list((tmp_path / "elsewhere").iterdir()) == []  # no empty store made here


COMMANDS = [
    "status",
    "crawl",
    "build",
    "run",
    "migrate",
    "schedule",
    "sources check",
    "draft",
    "publish --no-email",
    "send",
    "serve --port 0",
    "subscribers list",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_refuse_to_create_a_missing_store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """Every command but `digest init` (and the demo, which makes its own) needs the store."""
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "s" * 32)
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.console, "width", 300)
    (tmp_path / "sources.yaml").write_text("sources: []\n")
    config = tmp_path / "digest.toml"
    config.write_text('[store]\nurl = "sqlite:///nothing-here.db"\n')
    words = command.split()
    at = 2 if words[0] == "sources" else 1  # --config belongs to `sources check`
    assert cli.main([*words[:at], "--config", str(config), *words[at:]]) == 1
    out = capsys.readouterr().out
    assert f"no digest store at sqlite:///{tmp_path / 'nothing-here.db'}" in out
    assert "run `digest init`" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digest.toml", "sources.yaml"]
