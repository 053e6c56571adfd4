"""Scoring an issue against labelled events: coverage, repeats, help share, story quality."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.analyze.coverage import (
    Events,
    load_events,
    load_items,
    score_issue,
    story_quality,
)
from digest.errors import ConfigError
from digest.models import Article, Citation, Issue, Note, Section, Sentence, Story, Summary, Theme
from digest.urls import canonical_id, canonical_url

WEEK = date(2025, 7, 7)  # 2025-W28


def _item(item_id: str, when: str, url: str | None = None, flair: str | None = None) -> dict:
    kind = item_id.split(":")[0]
    permalink = (
        f"https://www.reddit.com/r/LocalLLaMA/comments/{item_id[7:]}/post/"
        if kind == "reddit"
        else f"https://news.ycombinator.com/item?id={item_id[3:]}"
    )
    return {
        "item_id": item_id,
        "source": kind,
        "published_at": when,
        "url": url,
        "permalink": permalink,
        "label_flair": flair,
    }


ITEMS = [
    # kimi: three items in W28, one of them an HN story linking Moonshot's page
    _item("reddit:k1", "2025-07-11T10:00:00Z", flair="New Model"),
    _item("reddit:k2", "2025-07-11T12:00:00Z", "https://huggingface.co/moonshotai/Kimi-K2"),
    _item("hn:100", "2025-07-11T13:00:00Z", "https://moonshot.ai/kimi-k2?utm_source=hn"),
    # grok: two in W28
    _item("reddit:g1", "2025-07-10T04:00:00Z", flair="News"),
    _item("reddit:g2", "2025-07-10T05:00:00Z", flair="Discussion"),
    # an event with one item in W28 and one in W27: too small for W28
    _item("reddit:e1", "2025-07-06T20:00:00Z"),
    _item("reddit:e2", "2025-07-07T02:00:00Z"),
    # a non-AI pair in W28
    _item("hn:200", "2025-07-08T10:00:00Z", "https://example.org/iceblock"),
    _item("hn:201", "2025-07-08T11:00:00Z", "https://example.net/iceblock-news"),
    # judged singletons: a help thread and a news post
    _item("reddit:h1", "2025-07-09T10:00:00Z", flair="Question | Help"),
    _item("reddit:s1", "2025-07-09T11:00:00Z", flair="News"),
]
LABELS = {
    "reddit:k1": "kimi",
    "reddit:k2": "kimi",
    "hn:100": "kimi",
    "reddit:g1": "grok",
    "reddit:g2": "grok",
    "reddit:e1": "split",
    "reddit:e2": "split",
    "hn:200": "iceblock-app-viral",
    "hn:201": "iceblock-app-viral",
    "reddit:h1": None,
    "reddit:s1": None,
}


@pytest.fixture
def data(tmp_path: Path):
    items = tmp_path / "items.dev.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in ITEMS))
    events = tmp_path / "events.dev.jsonl"
    events.write_text(
        "".join(json.dumps({"item_id": i, "event": e}) + "\n" for i, e in LABELS.items())
    )
    return load_events(events), load_items(items)


def _article(item_id: str, *, via_url: str | None = None) -> Article:
    row = next(r for r in ITEMS if r["item_id"] == item_id)
    url = canonical_url(via_url or row["url"] or row["permalink"])
    return Article(
        id=canonical_id(url),
        url=url,
        title=item_id,
        summary="",
        source=row["source"],
        published_at=datetime(2025, 7, 9, tzinfo=UTC),
        content_hash="",
    )


def _story(*item_ids: str) -> Story:
    return Story(
        id="s-" + "-".join(item_ids), title=item_ids[0], articles=tuple(map(_article, item_ids))
    )


def _cite(number: int, item_id: str) -> Citation:
    a = _article(item_id)
    return Citation(number, a.id, a.url, a.title, a.source)


def _issue(stories: list[Story], quick: list[str] = (), research: list[str] = ()) -> Issue:
    theme = Theme(id="t", name="Models", keywords=(), stories=tuple(stories))
    summary = Summary("Models", (Sentence("x", (1,)),), ())
    section = Section(theme, summary, (_cite(1, stories[0].articles[0].title),) if stories else ())
    notes = [Note(Sentence("q", (1,)), (_cite(1, i),)) for i in quick]
    papers = [Note(Sentence("p", (1,)), (_cite(1, i),), title="paper") for i in research]
    return Issue(
        id="2025-w28",
        title="t",
        week_start=WEEK,
        week_end=date(2025, 7, 13),
        built_at=datetime(2025, 7, 14, tzinfo=UTC),
        intro="",
        sections=(section,) if stories else (),
        quick_hits=tuple(notes),
        research=tuple(papers),
    )


def test_the_week_counts_its_largest_ai_events_only(data) -> None:
    events, items = data
    score = score_issue(_issue([]), WEEK, events, items)
    assert score.events == ("kimi", "grok")  # "split" has one item in W28; ICEBlock is not AI
    assert score.coverage == 0.0
    assert score.missed_events == ("kimi", "grok")


def test_an_event_cited_anywhere_counts_and_a_second_entry_is_a_repeat(data) -> None:
    events, items = data
    issue = _issue([_story("reddit:k1")], quick=["reddit:g1"], research=["hn:100"])
    score = score_issue(issue, WEEK, events, items)
    assert score.coverage == 1.0
    assert score.cited_events == ("kimi", "grok")
    assert score.repeats == 1  # Kimi in a theme's story and again as a paper
    assert score.repeated == {"kimi": 2}


def test_one_story_holding_many_items_of_an_event_is_no_repeat(data) -> None:
    events, items = data
    score = score_issue(_issue([_story("reddit:k1", "reddit:k2", "hn:100")]), WEEK, events, items)
    assert score.repeats == 0
    assert score.coverage == 0.5


def test_citations_match_by_canonical_url(data) -> None:
    events, items = data
    # The crawler stored the link without its tracking parameter; it is the same item.
    article = _article("hn:100", via_url="https://moonshot.ai/kimi-k2")
    story = Story(id="s", title="k", articles=(article,))
    assert score_issue(_issue([story]), WEEK, events, items).cited_events == ("kimi",)


def test_help_share_is_the_share_of_cited_reddit_posts_flaired_help(data) -> None:
    events, items = data
    issue = _issue([_story("reddit:h1", "reddit:s1"), _story("reddit:g1", "hn:100")])
    score = score_issue(issue, WEEK, events, items)
    assert (score.cited_reddit, score.cited_help) == (3, 1)
    assert score.help_share == pytest.approx(1 / 3)


def test_citing_a_non_ai_pair_is_reported(data) -> None:
    events, items = data
    score = score_issue(_issue([_story("hn:200")]), WEEK, events, items)
    assert score.off_topic_events == ("iceblock-app-viral",)
    assert "iceblock-app-viral" not in score.events


def test_story_quality_pairwise_recall_counts_event_pairs_only() -> None:
    events = Events({"a": "x", "b": "x", "c": "x", "d": None, "e": None})
    # a+b together, c apart; the two singletons wrongly together
    predicted = {"a": "1", "b": "1", "c": "2", "d": "3", "e": "3"}
    q = story_quality(predicted, events)
    assert q.pairwise_recall == pytest.approx(1 / 3)  # of a-b, a-c, b-c only a-b together
    assert q.pairwise_precision == pytest.approx(1 / 2)  # a-b right, d-e wrong
    assert q.judged == 5
    assert 0 < q.bcubed_f1 < 1


def test_a_perfect_grouping_scores_one_and_unplaced_items_are_left_out() -> None:
    events = Events({"a": "x", "b": "x", "c": None, "z": "x"})
    q = story_quality({"a": "1", "b": "1", "c": "2"}, events)
    assert (q.bcubed_f1, q.pairwise_precision, q.pairwise_recall, q.judged) == (1.0, 1.0, 1.0, 3)


def test_a_bad_labels_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"item_id": "a", "event": null}\nnot json\n')
    with pytest.raises(ConfigError, match=r"events.jsonl:2 is not JSON"):
        load_events(path)
