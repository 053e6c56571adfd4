"""Every source kind against a loopback server answering in its API's real shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from digest.crawl import FetchPolicy, SourceResult, crawl_sync
from digest.crawl.sources import load_sources
from digest.errors import ConfigError
from digest.models import Source
from tests.loopback import Reply, Server, serve

DATA = Path(__file__).parent / "data" / "crawl"


def _file(name: str, content_type: str) -> Reply:
    return Reply((DATA / name).read_bytes(), content_type)


@pytest.fixture(scope="module")
def api() -> Iterator[Server]:
    routes = {
        "/api/query": _file("arxiv.xml", "application/atom+xml; charset=utf-8"),
        "/api/v1/search_by_date": _file("hn_search.json", "application/json; charset=utf-8"),
        "/api/v1/search": _file("hn_front.json", "application/json; charset=utf-8"),
        "/r/LocalLLaMA/hot.json": _file("reddit_hot.json", "application/json; charset=UTF-8"),
        "/t/ai.json": _file("lobsters_ai.json", "application/json; charset=utf-8"),
        "/news": _file("listing.html", "text/html; charset=utf-8"),
        "/archive.jsonl": _file("archive.jsonl", "application/jsonl"),
        "/feed.json": _file("feed.json", "application/feed+json"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        yield server


def _sources(tmp_path: Path, yaml_text: str, base: str) -> list[Source]:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml_text)
    return load_sources(path, base=base)


def _crawl(sources: list[Source]) -> list[SourceResult]:
    policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0)
    results = crawl_sync(sources, policy)
    for r in results:
        assert r.ok, r.error
    return results


def test_arxiv_papers_have_authors_categories_abstract_and_pdf(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: arXiv, kind: arxiv, url: '{base}/api/query', "
        "categories: [cs.CL, cs.LG], query: agents, max_items: 25, full_text: false}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    first, second = result.articles
    assert first.url == "https://arxiv.org/abs/2507.08771"  # version dropped: one article
    assert first.title == "Sparse Attention Distillation for Long-Context Language Models"
    assert first.summary.startswith("We study how to distill dense attention")
    assert first.author == "Mei Chen, Arjun Patel"
    assert first.tags == ("cs.CL", "cs.LG")
    assert first.pdf_url == "http://arxiv.org/pdf/2507.08771v2"
    assert first.published_at == datetime(2025, 7, 11, 17, 58, 1, tzinfo=UTC)
    assert second.author == "Lucía Fernández" and second.tags == ("cs.AI", "cs.CL")
    (query,) = [p for p, _ in api.requests if p.startswith("/api/query")][-1:]
    asked = parse_qs(urlsplit(query).query)
    assert asked["search_query"] == ["(cat:cs.CL OR cat:cs.LG) AND all:(agents)"]
    assert asked["max_results"] == ["25"] and asked["sortBy"] == ["submittedDate"]


def test_arxiv_is_asked_at_most_once_per_3_seconds(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n"
        "  - {name: a, kind: arxiv, url: '{base}/api/query', categories: [cs.CL]}\n"
        "  - {name: b, kind: arxiv, url: '{base}/api/query', categories: [cs.AI]}\n",
        api.base,
    )
    started = time.monotonic()
    _crawl(sources)
    assert time.monotonic() - started >= 3.0


def test_hackernews_search_keeps_points_comments_and_thread(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: HN, kind: hackernews, url: '{base}/api/v1', query: llm, "
        "min_points: 50}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    kimi, ask = result.articles  # the 3-point story is under the floor
    assert kimi.url == "https://moonshotai.github.io/Kimi-K2"
    assert (kimi.score, kimi.comments) == (587, 212)
    assert kimi.discussion_url == "https://news.ycombinator.com/item?id=44533403"
    assert kimi.published_at == datetime(2025, 7, 11, 15, 2, 11, tzinfo=UTC)
    assert ask.url == ask.discussion_url == "https://news.ycombinator.com/item?id=44534000"
    assert ask.summary == (
        "I keep seeing LLM evals that don't match my experience.\nWhat do you use?"
    )
    (query,) = [p for p, _ in api.requests if p.startswith("/api/v1/search_by_date")][-1:]
    asked = parse_qs(urlsplit(query).query)
    assert asked["numericFilters"] == ["points>=50"] and asked["tags"] == ["story"]


def test_hackernews_front_page(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: HN front, kind: hackernews, url: '{base}/api/v1', "
        "front_page: true}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    assert [a.score for a in result.articles] == [412, 150]
    assert result.articles[0].url == "https://qwenlm.github.io/blog/qwen3-coder"


def test_reddit_listing_keeps_score_flair_permalink_and_self_posts(
    api: Server, tmp_path: Path
) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: r/LocalLLaMA, kind: reddit, url: '{base}', subreddit: LocalLLaMA}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    link, self_post, no_flair = result.articles
    assert link.url == "https://moonshotai.github.io/Kimi-K2"
    assert link.title == "Kimi K2 weights are out & they're huge"
    assert link.tags == ("New Model",)
    assert (link.score, link.comments) == (1543, 388)
    assert link.discussion_url == (
        "https://reddit.com/r/LocalLLaMA/comments/1lx1abc/kimi_k2_weights_are_out"
    )
    assert self_post.url == self_post.discussion_url
    assert "the gap is small" in self_post.summary
    assert no_flair.tags == ()
    assert api.hits("/r/LocalLLaMA/hot.json")[-1]["User-Agent"].startswith("digest/")


def test_lobsters_tag(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: Lobsters, kind: lobsters, url: '{base}', tag: ai}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    link, text_post = result.articles
    assert link.url == "https://example.org/agents-long-tasks"
    assert (link.score, link.comments, link.author) == (42, 17, "alice")
    assert link.published_at == datetime(2025, 7, 11, 14, 15, 2, tzinfo=UTC)
    assert text_post.url == text_post.discussion_url
    assert text_post.summary == "Curious what people run locally." and text_post.author == "bob"


def test_html_listing_with_css_selectors(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - name: Lab news\n    kind: html\n    url: '{base}/news'\n"
        "    item: li.post\n    title: .post-title\n    link: a.post-link\n"
        "    date: time, .date\n    summary: .teaser\n    full_text: false\n",
        api.base,
    )
    (result,) = _crawl(sources)
    genie, guest = result.articles  # no link and javascript: link skipped
    assert genie.url == f"{api.base}/news/genie-3"  # explicit port: http is kept
    assert genie.title == "Genie 3: a world model you can walk in"
    assert genie.published_at == datetime(2025, 8, 5, 14, 0, tzinfo=UTC)
    assert genie.summary.startswith("Our new world model")
    assert guest.url == "https://other.example.com/guest-post"
    assert guest.published_at == datetime(2025, 7, 30, tzinfo=UTC)


def test_jsonl_archive_by_url_and_by_path(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: archive, kind: jsonl, url: '{base}/archive.jsonl'}\n"
        f"  - {{name: local, kind: jsonl, path: {DATA / 'archive.jsonl'}}}\n",
        api.base,
    )
    by_url, by_path = _crawl(sources)
    assert [a.url for a in by_url.articles] == [a.url for a in by_path.articles]
    reddit, hn = by_url.articles  # newest first; the bad line and the linkless item skipped
    assert hn.url == "https://moonshotai.github.io/Kimi-K2"
    assert (hn.score, hn.comments) == (587, 212)
    assert reddit.url == reddit.discussion_url and reddit.tags == ("Discussion",)


def test_json_feed(api: Server, tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "sources:\n  - {name: JSON, kind: feed, url: '{base}/feed.json', full_text: false}\n",
        api.base,
    )
    (result,) = _crawl(sources)
    persona, relative = result.articles
    assert persona.title == "Persona vectors, explained"
    assert persona.summary == "Steering a model's character with vectors."  # script dropped
    assert persona.author == "Sam Rivera" and persona.tags == ("interpretability",)
    assert persona.published_at == datetime(2025, 8, 1, 8, 0, tzinfo=UTC)
    assert relative.url.endswith("/2025/07/relative")


def test_real_multisource_items_import_as_jsonl(shared_data: Path, tmp_path: Path) -> None:
    archive = shared_data / "ai_news_multisource_2025-07" / "items.dev.jsonl"
    sources = _sources(
        tmp_path,
        f"sources:\n  - {{name: archive, kind: jsonl, path: {archive}, max_items: 100000}}\n",
        "",
    )
    policy = FetchPolicy(max_bytes=64 * 1024 * 1024)
    (result,) = crawl_sync(sources, policy)
    assert result.ok, result.error
    lines = [line for line in archive.read_text().splitlines() if line.strip()]
    # Every item has a link or a permalink; reposts of one URL become one article.
    assert 0.9 * len(lines) <= len(result.articles) <= len(lines)
    discussed = [a for a in result.articles if a.discussion_url]
    assert len(discussed) > 1000 and max(a.score for a in discussed) > 100


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("{name: A, kind: arxiv}", "give categories"),
        ("{name: A, kind: arxiv, categories: ['not a category!']}", "categories.0"),
        ("{name: A, kind: hackernews, min_points: -1, query: x}", "min_points"),
        ("{name: A, kind: reddit, subreddit: 'r/bad name'}", "subreddit"),
        ("{name: A, kind: reddit, subreddit: ok, listing: best}", "listing"),
        ("{name: A, kind: lobsters}", "tag"),
        ("{name: A, kind: html, url: 'https://x.example', item: 'li[', title: h, link: a}", "item"),
        ("{name: A, kind: jsonl}", "either url or path"),
        ("{name: A, kind: feed, url: 'https://x.example', interval_minutes: 0}", "interval_min"),
        ("{name: A, kind: feed, url: 'https://x.example', colour: red}", "colour"),
        ("{name: A, kind: gopher, url: 'https://x.example'}", "kind: unknown kind 'gopher'"),
    ],
)
def test_bad_entries_name_file_source_and_field(tmp_path: Path, entry: str, field: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - {entry}\n")
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    message = str(err.value)
    assert message.startswith(f"{path}: source 'A': "), message
    assert field in message, message
