"""A real week of AI news (2025-W28 of the dev split) makes an issue that passes `digest check`.

The week is read through the `jsonl` source kind, one source per source of the archive. When
the shared loopback replay of the dev weeks (issue 14) lands, `_week_sources` is the one place
to switch to it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from digest import cli
from digest.analyze.topics import load_topics, readable_name
from digest.store import Store
from digest.write.style import headline_faults
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
WEEK = "2025-W28"
DAYS = ("2025-07-07", "2025-07-13")  # the week's Monday to Sunday
DATASET = "ai_news_multisource_2025-07"


def _week_sources(data: Path, folder: Path) -> Path:
    """sources.yaml reading the week's items of the dev split (never the held-out test split),
    by source."""
    by_source: dict[str, list[str]] = {}
    for line in (data / DATASET / "items.dev.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else None
        if item and DAYS[0] <= item["published_at"][:10] <= DAYS[1]:
            by_source.setdefault(item["source"], []).append(line)
    entries = []
    for n, (name, lines) in enumerate(sorted(by_source.items())):
        path = folder / f"source-{n}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append(f"  - {{name: {json.dumps(name)}, kind: jsonl, path: '{path}'}}")
    sources = folder / "sources.yaml"
    sources.write_text("sources:\n" + "\n".join(entries) + "\n", encoding="utf-8")
    return sources


def _plain(renderables: tuple[object, ...]) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(*renderables)
    return console.export_text()


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store and site with the W28 issue built by `digest build`; yields digest.toml."""
    if not (SHARED_DATA / DATASET).is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA / DATASET}")
    folder = tmp_path_factory.mktemp("w28")
    _week_sources(SHARED_DATA, folder)
    config = folder / "digest.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{folder / "digest.db"}"\n[crawl]\nmax_bytes = 67108864\n'
        '[site]\ndir = "site"\n[email]\ndir = "outbox"\n'
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        assert cli.main(["init", "--config", str(config)]) == 0
        assert cli.main(["crawl", "--config", str(config)]) == 0
        assert cli.main(["build", "--config", str(config), "--week", WEEK]) == 0
    yield config


def test_the_real_week_passes_the_editorial_check(week: Path) -> None:
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: lines.append(_plain(a)))
        code = cli.main(["check", "--config", str(week), "--week", WEEK])
    text = "\n".join(lines)
    assert code == 0, text
    assert re.search(r"grounding checked \d+ sentences, 0 unsupported", text), text
    assert "0 rule(s) broken" in text, text


def test_the_real_week_reads_as_an_issue(week: Path) -> None:
    store = Store(f"sqlite:///{week.parent / 'digest.db'}")
    issue = store.issue("2025-w28")
    store.close()
    assert issue is not None and len(issue.sections) >= 3
    topics = {t.slug: t.name for t in load_topics()}
    for section in issue.sections:
        name = section.theme.name
        assert readable_name(name) and "·" not in name and "http" not in name.lower()
        assert section.theme.slug == section.theme.id
        if section.theme.slug in topics:
            assert topics[section.theme.slug] == name
        assert headline_faults(section.summary.headline) == []
        assert 1 <= len(section.summary.what_happened) <= 3
    assert any(s.theme.slug in topics for s in issue.sections)
    assert all(h.citations for h in issue.quick_hits) and len(issue.quick_hits) >= 5
