"""The real-week gate: a fixed slice of the dev split's 2025-W28 makes an issue that cites the
slice's largest AI events once each and leaves the help threads out, with engagement data and
without (score, comments and flair stripped, as a plain feed of the same posts gives them).

Built through `digest build`, scored with digest.analyze.coverage against the dev labels. The
full weeks are measured by bench/realweek.py; this slice keeps the gate under a minute or so.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from digest import cli
from digest.analyze.coverage import (
    IssueScore,
    issue_entries,
    load_events,
    load_items,
    score_issue,
)
from digest.store import Store
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
DATASET = SHARED_DATA / "ai_news_multisource_2025-07"
WEEK = "2025-W28"
SLICE = ("2025-07-10", "2025-07-12")  # Grok 4, Kimi K2, Devstral, OpenAI's open model, ...
ENGAGEMENT = ("score_at_capture", "num_comments_at_capture", "label_flair", "upvote_ratio")


def _crawl(folder: Path, days: tuple[tuple[str, str], ...], plain: bool = False) -> Path:
    """A store holding the dev items of `days` (first and last day, inclusive; engagement
    stripped when `plain`), one jsonl source per source of the archive; its digest.toml."""
    rows = [json.loads(x) for x in (DATASET / "items.dev.jsonl").read_text().splitlines() if x]
    kept = [r for r in rows if any(a <= r["published_at"][:10] <= b for a, b in days)]
    (folder / "slice.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    by_source: dict[str, list[str]] = {}
    for r in kept:
        shown = {k: v for k, v in r.items() if not (plain and k in ENGAGEMENT)}
        by_source.setdefault(r["source"], []).append(json.dumps(shown))
    entries = []
    for n, (name, lines) in enumerate(sorted(by_source.items())):
        path = folder / f"source-{n}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append(f"  - {{name: {json.dumps(name)}, kind: jsonl, path: '{path}'}}")
    (folder / "sources.yaml").write_text("sources:\n" + "\n".join(entries) + "\n")
    config = folder / "digest.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{folder / "digest.db"}"\n[crawl]\nmax_bytes = 67108864\n'
        '[site]\ndir = "site"\n[email]\ndir = "outbox"\n'
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        assert cli.main(["init", "--config", str(config)]) == 0
        assert cli.main(["crawl", "--config", str(config)]) == 0
    return config


def _build(config: Path, week: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        assert cli.main(["build", "--config", str(config), "--week", week]) == 0


def _score(folder: Path, plain: bool) -> IssueScore:
    """The slice built as W28, its issue scored against the labels."""
    _build(_crawl(folder, (SLICE,), plain), WEEK)
    store = Store(f"sqlite:///{folder / 'digest.db'}")
    issue = store.issue(WEEK.lower())
    store.close()
    assert issue is not None
    items = load_items(folder / "slice.jsonl")
    return score_issue(issue, date(2025, 7, 7), load_events(DATASET / "events.dev.jsonl"), items)


# Floors at what the slice measures (issue 14's goals, not yet met: coverage 0.875 / 0.75
# plain, 0 repeats, help share 0.05 / 0.1 plain). Raise them as it improves. Both rose to
# 0.75 when a launch the week talks about came to lead a section named after it and pieces
# sharing its versioned name ("Grok 4") to join; two Grok 4 stories still stand apart. The
# plain floor went back to 0.625 when a link that carries only its title came to be told ("New
# on kiro.dev: ..."): on the full weeks that took engagement from 0.739 to 0.826 and left plain
# at 0.565, but on this slice such a line from herdora.com takes the twelfth quick hit from
# OpenAI's delay. Plain repeats went to 2 when a post linking the press came to read as news:
# Simon Willison's post on Grok consulting Musk became a quick hit while Grok 4's launch story
# holds TechCrunch's report of it (the full weeks: plain 0.565 -> 0.696, no repeat). Plain
# repeats went to 3 when a press page signing its title ("... - VideoCardz.com") stopped counting
# as first-hand: its quick hit left the slice's twelve and "New Devstral 2707 with mistral.rs"
# came in, which the version veto keeps apart from Devstral-Small-2507 (the post's typo); on the
# full weeks the same change put SmolLM3's section back in W28 and took plain help from 0.051 to
# 0.044, with no repeat.
@pytest.mark.parametrize(
    ("plain", "coverage", "repeats", "help_share"),
    [(False, 0.75, 2, 0.05), (True, 0.625, 3, 0.1)],
)
def test_the_slice_cites_its_largest_events_once_and_no_help_threads(
    tmp_path: Path, plain: bool, coverage: float, repeats: int, help_share: float
) -> None:
    if not DATASET.is_dir():
        pytest.skip(f"shared evaluation data not found at {DATASET}")
    score = _score(tmp_path, plain)
    found = json.dumps(score.as_dict())
    assert len(score.events) >= 6, found
    assert score.coverage >= coverage, found
    assert score.repeats <= repeats, found
    assert score.help_share <= help_share, found
    assert not score.off_topic_events, found


def test_an_event_that_runs_into_the_next_week_comes_back_once_as_an_update(
    tmp_path: Path,
) -> None:
    """Kimi K2 came out on Jul 11; its benchmarks, quants and press ran on into the next week."""
    if not DATASET.is_dir():
        pytest.skip(f"shared evaluation data not found at {DATASET}")
    config = _crawl(tmp_path, (("2025-07-11", "2025-07-12"), ("2025-07-14", "2025-07-14")))
    _build(config, "2025-W28")
    _build(config, "2025-W29")
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    issue = store.issue("2025-w29")
    assert issue is not None
    entries = issue_entries(issue)
    articles = {a.id: a for a in store.articles_by_id([i for e in entries for i, _ in e])}
    kimi = [e for e in entries if any("kimi" in articles[i].title.lower() for i, _ in e)]
    told = [a for e in kimi for i, _ in e if (a := articles[i])]
    stories = [s for sec in issue.sections for s in sec.theme.stories if s.articles[0] in told]
    published = store.published_in([s.id for s in stories])
    store.close()
    assert len(kimi) == 1, [[articles[i].title for i, _ in e] for e in kimi]
    assert all(a.published_at.date() >= date(2025, 7, 14) for a in told)  # only what is new
    assert stories and all(s.is_update for s in stories)
    assert all(published.get(s.id) == "2025-w28" for s in stories)
