"""Story grouping: the same event joins one story, a near miss does not, ids never change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from digest.analyze.anchors import names
from digest.analyze.density import (
    DENSE_THRESHOLD,
    DENSITY_RAMP,
    adaptive_threshold,
    corpus_density,
    dense_cores,
)
from digest.analyze.retold import repost_pairs, teaser_pairs
from digest.analyze.stories import (
    ANCHOR_SCALE,
    anchor_bonus,
    far_pairs,
    group_stories,
    specific_tokens,
    url_key,
)
from digest.models import Article


def art(n: int, title: str, hours: int = 0) -> Article:
    return Article(
        id=f"a{n}",
        url=f"https://example.com/{n}",
        title=title,
        summary="",
        source=f"S{n}",
        published_at=datetime(2026, 11, 17, tzinfo=UTC) + timedelta(hours=hours),
        content_hash=f"h{n}",
    )


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


WINDOW = timedelta(days=14)


def test_specific_tokens_tell_model_versions_apart() -> None:
    assert "qwen3.5-coder-480b" in specific_tokens("Alibaba ships Qwen3.5-Coder-480B today")
    assert specific_tokens("GPT-5 and H200 at 40%") >= {"gpt-5", "h200"}
    assert specific_tokens("A plain sentence with no versions") == frozenset()


def test_similar_articles_join_and_distant_ones_start_stories() -> None:
    articles = [
        art(1, "Lab releases model", 0),
        art(2, "Model released by lab", 1),
        art(3, "Chip export rules", 2),
    ]
    vectors = np.vstack([unit(1, 0.1, 0), unit(1, 0.15, 0), unit(0, 0, 1)])
    g = group_stories(articles, vectors, [], threshold=0.8, window=WINDOW)
    assert g.assignments["a1"] == g.assignments["a2"] == "s-a1"
    assert g.assignments["a3"] == "s-a3"
    assert set(g.started) == {"s-a1", "s-a3"}


def test_different_versions_do_not_merge_even_when_close() -> None:
    a = art(1, "Qwen3.5-Coder-480B released")
    b = art(2, "Qwen3.5-7B quantized builds released", 1)
    vectors = np.vstack([unit(1, 0.3, 0), unit(1, 0.42, 0)])  # cosine ~0.99
    strict = group_stories([a, b], vectors, [], threshold=0.93, window=WINDOW)
    assert strict.assignments["a1"] != strict.assignments["a2"]


def test_a_post_about_another_version_of_a_product_does_not_join_its_story() -> None:
    """ "Grok 3 should be open-sourced" reads like the thread about open-sourcing Grok that
    Grok 4's story took in; it is not Grok 4's news. A post naming another lab's version in
    passing ("Kimi K2 outperforms GPT-4") still joins its product's story."""
    launch = art(1, "Grok 4 launch", -30)
    thread = art(2, "Grok open source", -20)
    known = [("s-a1", [launch, thread], np.vstack([unit(1, 0.2, 0), unit(1, 0.3, 0)]))]
    new = [art(3, "Friendly reminder that Grok 3 should be open-sourced"), art(4, "Grok 4 tops")]
    vectors = np.vstack([unit(1, 0.3, 0), unit(1, 0.25, 0)])
    g = group_stories(new, vectors, known, threshold=0.8, window=WINDOW)
    assert g.assignments == {"a3": "s-a3", "a4": "s-a1"}
    kimi = [art(5, "Kimi K2 trails GPT-4.1 on fiction"), art(6, "Kimi K2 outperforms GPT-4", 2)]
    g = group_stories(kimi, np.vstack([unit(1, 0.1, 0), unit(1, 0.12, 0)]), [], 0.8, WINDOW)
    assert g.assignments["a5"] == g.assignments["a6"]


def test_new_article_joins_stored_story_and_keeps_its_id() -> None:
    old = art(1, "Lab releases model", -48)
    new = art(2, "Model released by lab", 0)
    known = [("s-a1", [old], np.vstack([unit(1, 0.1, 0)]))]
    g = group_stories([new], np.vstack([unit(1, 0.12, 0)]), known, threshold=0.8, window=WINDOW)
    assert g.assignments == {"a2": "s-a1"} and g.started == {}


def test_stories_older_than_the_window_are_not_joined() -> None:
    old = art(1, "Lab releases model", -24 * 30)
    known = [("s-a1", [old], np.vstack([unit(1, 0, 0)]))]
    g = group_stories(
        [art(2, "Lab releases model")],
        np.vstack([unit(1, 0, 0)]),
        known,
        threshold=0.8,
        window=WINDOW,
    )
    assert g.assignments == {"a2": "s-a2"}


def test_threshold_falls_only_in_a_dense_corpus() -> None:
    assert adaptive_threshold(0.62, 0.40) == 0.62
    assert adaptive_threshold(0.62, 0.90) == DENSE_THRESHOLD
    low, high = DENSITY_RAMP
    assert DENSE_THRESHOLD < adaptive_threshold(0.62, (low + high) / 2) < 0.62
    assert adaptive_threshold(0.2, 0.90) == 0.2  # a threshold set below the floor is kept


def test_density_is_the_fifth_neighbours_cosine_within_the_window() -> None:
    rng = np.random.default_rng(3)
    copies = np.vstack([unit(1, *rng.normal(0, 0.05, 7)) for _ in range(10)])
    spread = np.linalg.qr(rng.normal(size=(8, 8)))[0][:, :8].T.astype(np.float32)
    times = np.zeros(10)
    assert corpus_density(copies, times, 3600) > 0.95
    assert abs(corpus_density(spread, np.zeros(8), 3600)) < 1e-5  # orthogonal: cosine 0
    assert corpus_density(copies[:5], times[:5], 3600) == -1.0  # no 5th neighbour
    assert corpus_density(copies, np.arange(10) * 7200.0, 3600) == -1.0  # all outside window


def test_two_events_told_many_times_merge_at_a_cosine_a_sparse_corpus_keeps_apart() -> None:
    rng = np.random.default_rng(5)
    u, w = unit(1, 0, 0, 0), unit(0.45, 0.893, 0, 0)  # cosine 0.45

    def told(centre: np.ndarray, n: int) -> list[np.ndarray]:
        return [unit(*(centre + rng.normal(0, 0.03, 4))) for _ in range(n)]

    dense = np.vstack(told(u, 8) + told(w, 8))
    arts = [art(n, f"Article {n}", n) for n in range(16)]
    g = group_stories(arts, dense, [], threshold=0.62, window=WINDOW)
    assert len(set(g.assignments.values())) == 1
    sparse = np.vstack([unit(*u), unit(*w)])
    g = group_stories(arts[:2], sparse, [], threshold=0.62, window=WINDOW)
    assert len(set(g.assignments.values())) == 2


def test_dense_corpus_starts_from_communities_that_keep_same_page_groups_whole() -> None:
    rng = np.random.default_rng(7)
    centres = [unit(1, 0, 0, 0), unit(0, 1, 0, 0)]
    vectors = np.vstack([unit(*(centres[k % 2] + rng.normal(0, 0.1, 4))) for k in range(12)])
    pairs = [(i, j) for i in range(12) for j in range(i + 1, 12)]
    evens, odds = list(range(0, 12, 2)), list(range(1, 12, 2))

    def cores(groups: list[list[int]]) -> list[list[int]]:
        return sorted(sorted(c) for c in dense_cores(vectors, pairs, groups, density=0.9))

    assert cores([[0, 2], *([k] for k in range(1, 12) if k != 2)]) == [evens, odds]
    # A same-page group is never split: here it joins the two communities.
    assert cores([[0, 1], *([k] for k in range(2, 12))]) == [list(range(12))]


def test_sparse_corpus_keeps_its_starting_groups() -> None:
    vectors = np.vstack([unit(1, 0.01 * k, 0) for k in range(4)])
    groups = [[0], [1, 2], [3]]
    assert dense_cores(vectors, [(0, 1), (2, 3)], groups, density=0.4) == [[0], [1, 2], [3]]


def test_same_page_key_keeps_the_parameters_that_name_the_page() -> None:
    assert url_key("http://www.example.com/a/?utm_source=rss#top") == url_key(
        "https://example.com/a"
    )
    assert url_key("http://e.com/News.asp?id=1") != url_key("http://e.com/News.asp?id=2")
    assert url_key("not a url") == ""


def test_a_bigger_corpus_of_the_same_kind_is_not_denser() -> None:
    # The 5th neighbour of random articles gets closer as the corpus grows; a week of 8,000
    # AI news articles must not pass for an aggregator because it is big.
    rng = np.random.default_rng(11)
    many = rng.normal(size=(8000, 12)).astype(np.float32)
    many /= np.linalg.norm(many, axis=1, keepdims=True)
    small, big = many[::8], many
    assert (
        abs(corpus_density(big, np.zeros(8000), 3600) - corpus_density(small, np.zeros(1000), 3600))
        < 0.03
    )


def _week_of_chatter(n: int, dims: int = 64) -> tuple[list[Article], list[np.ndarray]]:
    """n unrelated posts spread over a week, each in its own direction and its own words."""
    rng = np.random.default_rng(7)
    posts = [
        art(100 + i, f"Question number{i} about setup{i}", hours=i * 168 // n) for i in range(n)
    ]
    return posts, [v / np.linalg.norm(v) for v in rng.normal(size=(n, dims))]


def _near(direction: np.ndarray, cosine: float, seed: int) -> np.ndarray:
    """A unit vector at `cosine` to `direction` (a report of the event in other words)."""
    other = np.random.default_rng(seed).normal(size=direction.shape)
    other -= (other @ direction) * direction
    other /= np.linalg.norm(other)
    return (cosine * direction + np.sqrt(1 - cosine**2) * other).astype(np.float32)


def test_reports_naming_one_release_are_one_story_though_worded_apart() -> None:
    """Three posts naming Kimi K2 within a day, at cosine 0.45 to each other (below any
    threshold alone), are one story; a post naming it six days later is another."""
    chatter, vectors = _week_of_chatter(220)
    event = np.zeros(64, dtype=np.float32)
    event[0] = 1.0
    reports = [
        art(1, "moonshotai/Kimi-K2-Instruct is out", hours=30),
        art(2, "Kimi K2 is funny and great", hours=40),
        art(3, "Ran Kimi K2 q4 on two 3090s", hours=50),
        art(4, "Kimi K2 support merged into llama.cpp", hours=190),
    ]
    report_vectors = [_near(event, 0.67, seed) for seed in range(4)]
    grouping = group_stories(
        [*chatter, *reports], np.vstack([*vectors, *report_vectors]), [], 0.62, WINDOW
    )
    story = grouping.assignments
    assert story["a1"] == story["a2"] == story["a3"]
    assert story["a4"] != story["a1"]
    assert len({story[a.id] for a in chatter}) == len(chatter)


def _linking(n: int, title: str, url: str, hours: int) -> Article:
    return Article(
        id=f"a{n}",
        url=url,
        title=title,
        summary="",
        source=f"S{n}",
        published_at=datetime(2026, 11, 17, tzinfo=UTC) + timedelta(hours=hours),
        content_hash=f"h{n}",
    )


def test_a_teaser_joins_the_release_of_the_lab_it_names() -> None:
    articles = [
        _linking(0, "Moonshot AI about to release their 1T parameters model?", "", 0),
        _linking(1, "Kimi-K2-Instruct", "https://huggingface.co/moonshotai/Kimi-K2-Instruct", 3),
        _linking(2, "Support for the upcoming Acme Granite 4.0 merged", "", 0),
        _linking(3, "Granite speech", "https://huggingface.co/acme-granite/granite-speech-3.3", 2),
        _linking(4, "Moonshot AI teases a model", "", 30),
    ]
    times = np.array([a.published_at.timestamp() for a in articles])
    # The Granite teaser names a version the release does not; the last teaser comes after.
    assert teaser_pairs(articles, times) == [(0, 1)]


def test_a_name_and_its_version_lift_a_pair_once() -> None:
    articles = [art(0, "Grok 4 benchmarks"), art(1, "Grok 4 consults Musk", hours=20)]
    weights = [{"grok": 4.0, "grok4": 5.0}, {"grok": 4.0, "grok4": 5.0, "musk": 6.0}]
    times = np.array([a.published_at.timestamp() for a in articles])
    assert anchor_bonus(articles, weights, times) == {(0, 1): ANCHOR_SCALE * 5.0}


def test_a_title_posted_again_within_the_window_is_one_report() -> None:
    title = "A language model built for the public good"
    question = "What is the best model for coding?"
    articles = [art(0, title), art(1, title.upper(), hours=52), art(2, title, hours=24 * 30)]
    articles += [art(3, question), art(4, question, hours=5)]
    times = np.array([a.published_at.timestamp() for a in articles])
    assert repost_pairs(articles, times, WINDOW.total_seconds()) == [(0, 1)]


def test_an_announcement_told_again_days_later_shares_many_names() -> None:
    names = {w: 6.0 for w in ("eth", "epfl", "zurich", "cscs", "swiss")}
    articles = [art(0, "ETH and EPFL LLM"), art(1, "Swiss LLM", 96), art(2, "Swiss", 100)]
    weights = [names, names, {"swiss": 6.0}]
    times = np.array([a.published_at.timestamp() for a in articles])
    vectors = np.array([unit(1, 0), unit(1, 0.1), unit(1, 0.1)])
    assert far_pairs(weights, times, vectors, 0.62, WINDOW.total_seconds()) == [(0, 1)]
    apart = np.array([unit(1, 0), unit(0, 1), unit(0, 1)])
    assert far_pairs(weights, times, apart, 0.62, WINDOW.total_seconds()) == []


def test_a_brand_and_the_word_after_it_name_a_product() -> None:
    assert "chatgpt agent" in names(art(0, "When will we get a local version of ChatGPT Agent?"))
    assert not any(" " in w for w in names(art(1, "Best AI agent for LLM server")))
