"""Crawls into a real SQLite store: duplicates, discussions, health, 304s, robots, full text."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from digest import cli, pipeline
from digest.crawl import FetchPolicy
from digest.crawl.backoff import backoff
from digest.crawl.parsing import POOL_FROM
from digest.crawl.sources import load_sources
from digest.models import Source
from digest.store import Store
from tests.loopback import Reply, send, serve

DATA = Path(__file__).parent / "data" / "crawl"
POLICY = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0, retry_wait=0)


def _rss(items: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        "<pubDate>Mon, 07 Jul 2025 10:00:00 +0000</pubDate></item>"
        for title, link, guid in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://blog.example.com/</link><description>d</description>{body}</channel></rss>"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'digest.db'}")


def _crawl_twice(
    store: Store, first: list[tuple[str, str, str]], then: list[tuple[str, str, str]]
) -> tuple[int, int]:
    """The new articles of a crawl of a feed listing `first`, then of one listing `then`."""
    feed = Reply(_rss(first), "application/rss+xml")
    with serve({"/feed": feed}) as server:
        source = Source("Blog", "feed", f"{server.base}/feed")
        before = pipeline.crawl([source], store, POLICY).new_articles
        feed.body = _rss(then)
        return before, pipeline.crawl([source], store, POLICY, force=True).new_articles


def test_a_relisting_by_url_or_guid_adds_nothing(store: Store) -> None:
    first = [
        ("OpenAI ships GPT-5 to everyone", "https://blog.example.com/openai-ships-gpt-5", "g1"),
        ("Anthropic releases Claude Opus 4.1", "https://blog.example.com/opus-4-1", "g2"),
    ]
    again = [  # the same URL under a new GUID, the same GUID under an edited slug
        ("GPT-5 for all", "https://blog.example.com/openai-ships-gpt-5?utm_source=x", "n1"),
        ("Anthropic releases Claude Opus 4.1 today", "https://blog.example.com/opus-4-1-now", "g2"),
    ]
    assert _crawl_twice(store, first, again) == (2, 0)
    assert store.count_articles() == 2
    assert store.known_urls(["https://blog.example.com/opus-4-1-now"]) == {
        "https://blog.example.com/opus-4-1-now"
    }


def test_distinct_articles_with_similar_titles_are_all_kept(store: Store) -> None:
    """Near-identical titles are how AI releases are named: each is its own article."""
    day_one = [
        ("Introducing Gemini 3", "https://blog.example.com/gemini-3", "urn:gemini-3"),
        ("Introducing GPT-5 mini", "https://blog.example.com/gpt-5-mini", "urn:gpt-5-mini"),
        ("The AI roundup: Monday edition", "https://blog.example.com/roundup-1", "urn:r1"),
    ]
    day_two = [
        ("Introducing Gemma 3", "https://blog.example.com/gemma-3", "urn:gemma-3"),
        ("Introducing GPT-5 nano", "https://blog.example.com/gpt-5-nano", "urn:gpt-5-nano"),
        ("The AI roundup: Tuesday edition", "https://blog.example.com/roundup-2", "urn:r2"),
    ]
    assert _crawl_twice(store, day_one, day_two + day_one) == (3, 3)
    assert sorted(a.title for a in _all(store)) == sorted(t for t, _, _ in day_one + day_two)


def test_items_sharing_a_guid_are_all_stored(store: Store) -> None:
    items = [(f"Different story {n}", f"https://blog.example.com/{n}", "same") for n in range(4)]
    with serve({"/feed": Reply(_rss(items), "application/rss+xml")}) as server:
        report = pipeline.crawl([Source("Blog", "feed", f"{server.base}/feed")], store, POLICY)
    assert report.new_articles == 4


def test_hn_and_reddit_posts_attach_to_the_article_held(store: Store, tmp_path: Path) -> None:
    blog = [("Kimi K2: Open Agentic Intelligence", "https://moonshotai.github.io/Kimi-K2/", "k")]
    routes = {
        "/feed": Reply(_rss(blog), "application/rss+xml"),
        "/api/v1/search_by_date": Reply((DATA / "hn_search.json").read_bytes(), "application/json"),
        "/r/LocalLLaMA/hot.json": Reply(
            (DATA / "reddit_hot.json").read_bytes(), "application/json"
        ),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        (tmp_path / "sources.yaml").write_text(
            "sources:\n"
            "  - {name: Moonshot, kind: feed, url: '{base}/feed', full_text: false}\n"
            "  - {name: HN, kind: hackernews, url: '{base}/api/v1', query: llm}\n"
            "  - {name: LocalLLaMA, kind: reddit, url: '{base}', subreddit: LocalLLaMA}\n"
        )
        blog_source, hn, reddit = load_sources(tmp_path / "sources.yaml", base=server.base)
        assert pipeline.crawl([blog_source], store, POLICY).new_articles == 1
        report = pipeline.crawl([hn, reddit], store, POLICY)
    # HN: 3 stories, 1 of them Kimi; Reddit: 3 posts, 1 of them Kimi.
    assert [o.new for o in report.outcomes] == [2, 2]
    (kimi,) = [a for a in _all(store) if "Kimi-K2" in a.url]
    assert kimi.source == "Moonshot"
    assert kimi.discussion_url.startswith("https://reddit.com/r/LocalLLaMA/")  # the busiest
    assert (kimi.score, kimi.comments) == (1543, 388)
    threads = store.discussions_of(kimi.id)
    assert [(s, n) for s, _, n, _ in threads] == [("LocalLLaMA", 1543), ("HN", 587)]


def _all(store: Store) -> list:  # type: ignore[type-arg]
    with sqlite3.connect(str(store.engine.url.database)) as db:
        ids = [r[0] for r in db.execute("select id from articles")]
    return store.articles_by_id(ids)


def test_a_304_parses_nothing_and_a_failing_source_backs_off(store: Store) -> None:
    feed = Reply(
        _rss([("A post", "https://blog.example.com/a", "a")]),
        "application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 07 Jul 2025 10:00:00 GMT"},
    )

    def conditional(handler):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"v1"':
            send(handler, Reply(status=304, headers={"ETag": '"v1"'}))
        else:
            send(handler, feed)

    with serve({"/feed": conditional, "/gone": Reply(b"", status=500)}) as server:
        good = Source("Good", "feed", f"{server.base}/feed", interval=3600)
        bad = Source("Bad", "feed", f"{server.base}/gone")
        pipeline.crawl([good, bad], store, POLICY)
        again = pipeline.crawl([good, bad], store, POLICY)  # nothing is due
        forced = pipeline.crawl([good, bad], store, POLICY, force=True)
        assert server.hits("/feed")[-1]["If-None-Match"] == '"v1"'
        assert server.hits("/feed")[-1]["If-Modified-Since"] == "Mon, 07 Jul 2025 10:00:00 GMT"
    ok, failing = again.outcomes
    assert ok.note.startswith("not due until") and ok.error is None
    assert failing.note.startswith("backing off until") and "answered 500" in failing.note
    ok, failing = forced.outcomes
    assert ok.note == "not modified" and ok.fetched == 0 and ok.error is None
    assert failing.error is not None and "answered 500" in failing.error
    health = store.source_health()
    assert health["Good"].failures == 0 and health["Good"].etag == '"v1"'
    assert health["Bad"].failures == 2 and "answered 500" in health["Bad"].last_error
    assert health["Bad"].next_attempt is not None
    assert health["Bad"].next_attempt > datetime.now(UTC) + timedelta(seconds=400)


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    waits = [backoff(n, 3600, rng) for n in range(1, 10)]
    assert waits[0] < waits[1] < waits[2] < waits[3]
    assert all(w <= 3600 for w in waits) and len(set(waits[-3:])) == 3


def test_full_text_status_full_blurb_failed_and_robots(store: Store) -> None:
    items = [
        ("Kimi K2 released", "/article", "1"),
        ("Big scoop", "/paywall", "2"),
        ("Gone", "/missing", "3"),
        ("Private", "/private/page", "4"),
    ]
    routes = {
        "/feed": Reply(b"", "application/rss+xml"),
        "/article": Reply((DATA / "article.html").read_bytes(), "text/html; charset=utf-8"),
        "/paywall": Reply((DATA / "paywall.html").read_bytes(), "text/html; charset=utf-8"),
        "/robots.txt": Reply(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        links = [(t, f"{server.base}{p}", g) for t, p, g in items]
        routes["/feed"] = Reply(_rss(links), "application/rss+xml")
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        pipeline.crawl([source], store, POLICY)
        assert len(server.hits("/robots.txt")) == 1  # fetched once, then cached
        stored = {a.title: a for a in _all(store)}
        pipeline.crawl([source], store, POLICY, force=True)
        assert len(server.hits("/article")) == 1  # a page held is not fetched again
    assert stored["Kimi K2 released"].text_status == "full"
    assert "fifteen trillion tokens" in stored["Kimi K2 released"].full_text
    assert stored["Big scoop"].text_status == "blurb"
    assert stored["Gone"].text_status == "failed"
    assert stored["Private"].text_status == "failed"
    assert store.robots_files()[server.base][0] == 200


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (503, False)])
def test_robots_txt_4xx_allows_and_5xx_disallows(store: Store, status: int, allowed: bool) -> None:
    routes = {
        "/feed": Reply(b"", "application/rss+xml"),
        "/article": Reply((DATA / "article.html").read_bytes(), "text/html"),
        "/robots.txt": Reply(b"", status=status),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        routes["/feed"] = Reply(_rss([("A", f"{server.base}/article", "1")]), "application/rss+xml")
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        pipeline.crawl([source], store, POLICY)
        assert len(server.hits("/article")) == (1 if allowed else 0)
    (article,) = _all(store)
    assert article.text_status == ("full" if allowed else "failed")


def test_a_store_from_the_skeleton_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE articles (id VARCHAR(32) PRIMARY KEY, url TEXT NOT NULL UNIQUE, "
            "source VARCHAR(200) NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, "
            "author TEXT NOT NULL, published_at DATETIME NOT NULL, fetched_at DATETIME NOT NULL, "
            "content_hash VARCHAR(64) NOT NULL)"
        )
        db.execute(
            "INSERT INTO articles VALUES ('abc', 'https://a.example/x', 'Blog', 'Old', 's', '', "
            "'2025-07-07 10:00:00', '2025-07-07 10:00:00', 'h')"
        )
    store = Store(f"sqlite:///{path}")
    (old,) = store.articles_by_id(["abc"])
    assert old.title == "Old" and old.text_status == "" and old.score == 0


def test_cli_crawl_summary_and_sources_check(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:  # type: ignore[type-arg]
    feed = Reply(_rss([("A post", "https://blog.example.com/a", "a")]), "application/rss+xml")
    with serve({"/feed": feed}) as server:
        (tmp_path / "sources.yaml").write_text(
            "sources:\n"
            f"  - {{name: Good, kind: feed, url: '{server.base}/feed', full_text: false}}\n"
            f"  - {{name: Broken, kind: feed, url: '{server.base}/nope'}}\n"
        )
        (tmp_path / "digest.toml").write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "d.db"}"\n'
            '[crawl]\nallowed_hosts = ["127.0.0.1"]\nhost_delay = 0\n'
        )
        lines: list[str] = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cli.console, "width", 400)
            assert cli.main(["init", "--config", str(tmp_path / "digest.toml")]) == 0
            assert cli.main(["crawl", "--config", str(tmp_path / "digest.toml")]) == 0
            assert cli.main(["sources", "check", "--config", str(tmp_path / "digest.toml")]) == 0
        lines = capsys.readouterr().out.splitlines()
    text = "\n".join(lines)
    assert "1 new articles from 1 of 2 sources" in text
    assert "1 failed and were skipped" in text
    assert "answered 404" in text
    assert "2 sources; 1 failing" in text


# With a crowd of other sources the crawl is big enough to parse and store in processes.
@pytest.mark.parametrize("crowd", [0, POOL_FROM])
@pytest.mark.parametrize("slow", ["first", "second"])
def test_the_copy_kept_of_a_shared_url_does_not_depend_on_timing(
    tmp_path: Path, slow: str, crowd: int
) -> None:
    shared = "https://lab.example.com/news/model-release"
    feeds = {
        "first": _rss([("The first source's title", shared, "a1")]),
        "second": _rss([("The second source's title", shared + "?utm_source=rss", "b1")]),
    }

    def answer(name: str) -> Callable[[BaseHTTPRequestHandler], None]:
        def handler(h: BaseHTTPRequestHandler) -> None:
            if name == slow:
                time.sleep(0.5)  # server latency: the other source is stored... or waits
            send(h, Reply(feeds[name], "application/rss+xml"))

        return handler

    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    finished: list[str] = []
    routes = {"/first": answer("first"), "/second": answer("second")}
    routes["/other"] = Reply(_rss([]), "application/rss+xml")
    with serve(routes) as server:  # type: ignore[arg-type]
        sources = [Source(n, "feed", f"{server.base}/{n}") for n in ("first", "second")]
        sources += [Source(f"other {n}", "feed", f"{server.base}/other?{n}") for n in range(crowd)]
        report = pipeline.crawl(sources, store, POLICY, lambda r: finished.append(r.source.name))
    pair = [name for name in finished if name in feeds]
    assert pair[-1] == slow  # the timing this case is about did happen
    assert [(o.source, o.new) for o in report.outcomes[:2]] == [("first", 1), ("second", 0)]
    (article,) = store.articles_between(date(2025, 7, 7), date(2025, 7, 8))
    assert (article.source, article.title) == ("first", "The first source's title")
    assert article.url == shared
    store.close()


def test_a_stopping_crawl_starts_no_more_sources_and_stores_those_it_started(
    store: Store,
) -> None:
    feed = Reply(_rss([("A story", "https://blog.example.com/a", "g")]), "application/rss+xml")
    stop = False

    def finished(result: object) -> None:
        nonlocal stop
        stop = True  # asked for while the first source is being stored

    with serve({f"/feed{n}": feed for n in range(4)}) as server:
        sources = [Source(f"s{n}", "feed", f"{server.base}/feed{n}") for n in range(4)]
        policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), concurrency=1)
        report = pipeline.crawl(sources, store, policy, finished, stopping=lambda: stop)
    started = [o.source for o in report.outcomes if not o.withdrawn]
    withdrawn = [o.source for o in report.withdrawn]
    assert started[0] == "s0" and len(withdrawn) >= 2
    assert all(not server.hits(f"/feed{name[1]}") for name in withdrawn)
    assert all(o.note == pipeline.STOPPED and o.new == 0 for o in report.withdrawn)
    assert set(store.source_health()) == set(started)  # the next crawl fetches the rest
    assert store.count_articles() == 1
