"""A new source kind is one module (or one installed package): validated and crawled by name."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import digest.crawl
from digest import pipeline
from digest.crawl import sources as kinds
from digest.crawl.kind import SOURCE_KINDS
from digest.errors import ConfigError
from digest.pipeline import FetchPolicy, Store
from tests.loopback import Reply, Server, serve

RELEASES = [
    {
        "version": "2.1",
        "url": "https://example.org/releases/2.1",
        "date": "2025-07-09T10:00:00Z",
        "notes": "Tool calls stream as they are made.",
    },
    {
        "version": "2.0",
        "url": "https://example.org/releases/2.0",
        "date": "2025-07-08T09:00:00Z",
        "notes": "A new sampler.",
    },
]
POLICY = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0, retry_wait=0)


@pytest.fixture
def server() -> Iterator[Server]:
    routes = {"/releases.json": Reply(json.dumps(RELEASES).encode(), "application/json")}
    with serve(routes) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture
def kinds_of_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kinds known before the test, and no plugin looked up yet; restored after it."""
    kinds.source_kinds()  # the built-in modules file theirs first
    monkeypatch.setattr(SOURCE_KINDS, "_entries", SOURCE_KINDS.known())
    monkeypatch.setattr(SOURCE_KINDS, "_plugins_loaded", False)


def _sources_file(tmp_path: Path, server: Server) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {name: Engine releases, kind: changelog, url: '{base}/releases.json', "
        "product: Engine}\n  - {name: Lab, kind: feed, url: 'https://lab.example/feed.xml'}\n"
    )
    return path


def _crawl_into_store(path: Path, server: Server, tmp_path: Path) -> list[tuple[str, str]]:
    (release_log, _) = pipeline.load_sources(path, base=server.base)
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    try:
        report = pipeline.crawl([release_log], store, POLICY)
        assert [(o.source, o.new) for o in report.outcomes] == [("Engine releases", 2)]
        stored = store.articles_between(date(2025, 7, 7), date(2025, 7, 14))
    finally:
        store.close()
    return [(a.title, a.url) for a in stored]


def test_a_module_in_crawl_declares_a_kind_listed_nowhere_else(
    kinds_of_this_test: None,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "changelog.py").write_text(
        '"""The `changelog` kind."""\n\n'
        "from digest.crawl.kind import declare\n"
        "from tests.plugin_kind import ChangelogEntry, read_changelog\n\n"
        'KIND = declare("changelog", ChangelogEntry, read_changelog)\n'
    )
    # The module sits in the crawl package (as digest/crawl/changelog.py would), unimported.
    monkeypatch.setattr(digest.crawl, "__path__", [*digest.crawl.__path__, str(folder)])
    monkeypatch.setattr(kinds, "_import_kind_modules", kinds._import_kind_modules.__wrapped__)
    monkeypatch.delitem(sys.modules, "digest.crawl.changelog", raising=False)
    assert "changelog" not in SOURCE_KINDS.known()

    stored = _crawl_into_store(_sources_file(tmp_path, server), server, tmp_path)

    assert stored == [
        ("Engine 2.0", "https://example.org/releases/2.0"),
        ("Engine 2.1", "https://example.org/releases/2.1"),
    ]
    monkeypatch.delitem(sys.modules, "digest.crawl.changelog")


def test_an_installed_package_adds_a_kind_through_its_entry_point(
    kinds_of_this_test: None,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _sources_file(tmp_path, server)
    with pytest.raises(ConfigError, match=r"kind: unknown kind 'changelog'; use one of: arxiv, "):
        pipeline.load_sources(path, base=server.base)

    dist = tmp_path / "site" / "engine_releases-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: engine-releases\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[digest.source_kinds]\nchangelog = tests.plugin_kind:KIND\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(SOURCE_KINDS, "_plugins_loaded", False)

    assert _crawl_into_store(path, server, tmp_path) == [
        ("Engine 2.0", "https://example.org/releases/2.0"),
        ("Engine 2.1", "https://example.org/releases/2.1"),
    ]
    path.write_text("sources:\n  - {name: Engine, kind: changelog, url: '{base}/r.json'}\n")
    with pytest.raises(ConfigError, match=r"source 'Engine': product: Field required"):
        pipeline.load_sources(path, base=server.base)
