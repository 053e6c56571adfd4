"""The real week 2025-W28 (../shared/data, dev split), crawled and built through the CLI."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest import cli
from digest.models import Issue
from digest.store import Store

WEEK = "2025-W28"
ITEMS = Path("ai_news_multisource_2025-07") / "items.dev.jsonl"
# The archive's source field, as a reader would see each source named.
SOURCE_NAMES = {
    "reddit/r/LocalLLaMA": "r/LocalLLaMA",
    "hackernews/daily-top10": "Hacker News",
    "blog/anthropic_news": "Anthropic",
    "blog/anthropic": "Anthropic",
}


@dataclass(frozen=True)
class BuiltWeek:
    """The built issue and where its site and email were written."""

    issue: Issue
    site: Path
    email: Path
    config: Path


def build_week28(shared_data: Path, folder: Path) -> BuiltWeek:
    """Split the dev items by source into JSONL archives, then `digest init`, `crawl`, `build`."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for line in (shared_data / ITEMS).read_text(encoding="utf-8").splitlines():
        if line.strip():
            name = SOURCE_NAMES.get(json.loads(line)["source"], "Other")
            by_source[name].append(line)
    entries = []
    for n, (name, lines) in enumerate(sorted(by_source.items())):
        path = folder / f"source-{n}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append(f"  - {{name: {json.dumps(name)}, kind: jsonl, path: {path}}}\n")
    (folder / "sources.yaml").write_text("sources:\n" + "".join(entries), encoding="utf-8")
    config = folder / "digest.toml"
    config.write_text(
        '[store]\nurl = "sqlite:///digest.db"\n[site]\nbase_url = "https://digest.example.com/"\n'
        '[email]\ndir = "email"\n[crawl]\nmax_bytes = 67108864\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        for command in (["init"], ["crawl"], ["build", "--week", WEEK]):
            assert cli.main([*command, "--config", str(config)]) == 0, command
    store = Store(f"sqlite:///{folder / 'digest.db'}", create=False)
    try:
        issue = store.issue(WEEK.lower())
    finally:
        store.close()
    assert issue is not None
    return BuiltWeek(issue, folder / "site", folder / "email" / f"{issue.id}.eml", config)
