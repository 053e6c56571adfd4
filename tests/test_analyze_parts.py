"""Device choice, trends, MMR, engagement ranks, stored stories kept whole, and digest cluster."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from digest import cli
from digest.analyze.embed import half_precision, pick_device
from digest.analyze.evaluate import bcubed
from digest.analyze.rank import mmr_order
from digest.analyze.select import engagement_ranks
from digest.analyze.stories import group_stories, url_key
from digest.analyze.trends import PastTheme, mark_trends
from digest.errors import AnalyzeError
from digest.models import Article, Story, Theme


def art(n: int, title: str, url: str = "", source: str = "S") -> Article:
    return Article(
        f"a{n}",
        url or f"https://e.com/{n}",
        title,
        "",
        source,
        datetime(2026, 11, 17, tzinfo=UTC) + timedelta(hours=n),
        f"h{n}",
    )


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_device_is_cuda_in_fp16_only_when_a_gpu_is_there() -> None:
    assert pick_device("auto", cuda_available=True) == "cuda"
    assert pick_device("auto", cuda_available=False) == "cpu"
    assert pick_device("cpu", cuda_available=True) == "cpu"
    with pytest.raises(AnalyzeError, match="no GPU"):
        pick_device("cuda", cuda_available=False)
    assert half_precision("cuda") and not half_precision("cpu")


def test_same_page_joins_even_when_titles_differ() -> None:
    a = art(1, "Paper on sparse attention", "https://arxiv.org/abs/2611.1?utm_source=x")
    b = art(2, "Show HN: a thread", "https://www.arxiv.org/abs/2611.1/")
    g = group_stories([a, b], np.vstack([unit(1, 0), unit(0, 1)]), [], 0.6, timedelta(days=7))
    assert g.assignments["a1"] == g.assignments["a2"]
    assert url_key("https://news.ycombinator.com/item?id=1") == ""


def test_two_stored_stories_never_merge_but_new_articles_join_them() -> None:
    known = [
        ("s-a1", [art(1, "Lab ships model")], np.vstack([unit(1, 0.1, 0)])),
        ("s-a2", [art(2, "Lab ships model again")], np.vstack([unit(1, 0.12, 0)])),
    ]
    g = group_stories(
        [art(3, "Model by lab")], np.vstack([unit(1, 0.11, 0)]), known, 0.8, timedelta(days=7)
    )
    assert g.assignments["a3"] in {"s-a1", "s-a2"} and g.started == {}


def test_trends_compare_with_last_week() -> None:
    story = Story("s", "t", (art(1, "x"),))
    themes = [Theme("chips", "Chips", (), (story,) * 4), Theme("audio", "Audio", (), (story,))]
    centroids = {"chips": unit(1, 0, 0), "audio": unit(0, 1, 0)}
    last = [PastTheme("gpus", "GPUs", 2, unit(1, 0.1, 0)), PastTheme("x", "X", 9, unit(0, 0, 1))]
    marked = {t.id: t for t in mark_trends(themes, centroids, last)}
    assert (marked["chips"].trend, marked["chips"].previous_count) == ("rising", 2)
    assert marked["chips"].previous_name == "GPUs"
    assert marked["audio"].trend == "new"


def test_mmr_puts_a_near_repeat_after_something_different() -> None:
    vectors = np.vstack([unit(1, 0), unit(1, 0.01), unit(0, 1)])
    assert mmr_order([1.0, 0.95, 0.7], vectors) == [0, 2, 1]


def test_engagement_is_ranked_within_each_source() -> None:
    base = art(1, "x")
    thread = "https://news.ycombinator.com/item?id=1"
    items = [
        replace(base, id="hn1", source="HN", score=900, discussion_url=thread),
        replace(base, id="hn2", source="HN", score=100, discussion_url=thread),
        replace(base, id="r1", source="Reddit", score=50, discussion_url=thread),
        base,
    ]
    ranks = engagement_ranks(items)
    # Each source's best post reads as 1 whatever its count; a ninth of the points is less,
    # on a log scale (not a ninth); items with no engagement get none.
    assert ranks["hn1"] == ranks["r1"] == 1.0 and "a1" not in ranks
    assert 0.6 < ranks["hn2"] < 0.75


def test_bcubed_counts_splits_and_merges() -> None:
    gold = {"1": "a", "2": "a", "3": "b"}
    assert bcubed({"1": "x", "2": "x", "3": "y"}, gold).f1 == 1.0
    split = bcubed({"1": "x", "2": "y", "3": "z"}, gold)
    assert split.precision == 1.0 and split.recall < 1.0


@pytest.mark.slow
def test_cluster_command_needs_no_config_and_writes_one_line_per_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    items = [
        {
            "id": "1",
            "title": "Qwen3-Coder-480B released with agentic coding",
            "url": "https://q.ai/a",
            "published_at": "2025-07-22T10:00:00Z",
            "source": "blog",
            "text": "",
        },
        {
            "id": "2",
            "title": "Alibaba releases Qwen3-Coder-480B, an agentic coding model",
            "published_at": "2025-07-22T12:00:00Z",
            "source": "reddit",
            "extra": 1,
        },
        {
            "id": "3",
            "title": "Qwen3-30B-A3B quantized builds for laptops",
            "published_at": "2025-07-23T12:00:00Z",
            "source": "reddit",
        },
        {"id": "4", "title": "EU publishes guidance for general-purpose AI models", "text": ""},
    ]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    assert cli.main(["cluster", "--input", "items.jsonl", "--output", "out.jsonl"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert set(rows[0]) == {"id", "story", "theme"}
    story = {r["id"]: r["story"] for r in rows}
    assert story["1"] == story["2"] != story["3"]
    assert story["4"] not in {story["1"], story["3"]}
    assert not list(tmp_path.glob("*.db"))


def test_cluster_command_names_the_bad_line(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"id": "1", "title": "ok"}\n{"id": "2"}\n')
    out = tmp_path / "out.jsonl"
    assert (
        cli.main(["cluster", "--input", str(tmp_path / "items.jsonl"), "--output", str(out)]) == 1
    )
    assert not out.exists()
