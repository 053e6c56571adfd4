"""Faulty feeds on loopback: what can be read is read, the fault is recorded and shown."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digest import cli, pipeline
from digest.crawl import FetchPolicy, SourceResult, crawl_sync
from digest.crawl.expat import MAX_TOKEN, REPARSES_LARGE_TOKENS, longest_token
from digest.models import Source
from digest.store import Store
from tests.loopback import Reply, serve

MiB = 1 << 20
POLICY = FetchPolicy(
    allowed_hosts=frozenset({"127.0.0.1"}), deadline=10.0, max_bytes=16 * MiB, retry_wait=0
)
UTF8 = '<?xml version="1.0" encoding="utf-8"?>'


def _rss(items: str, declaration: str = UTF8) -> bytes:
    return (
        f'{declaration}<rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.com/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def _item(title: str, n: int, date: str = "Mon, 07 Jul 2025 10:00:00 +0000") -> str:
    return (
        f"<item><title>{title}</title><link>https://example.com/{n}</link>"
        f"<guid>urn:{n}</guid><pubDate>{date}</pubDate></item>"
    )


def _one(body: bytes, content_type: str = "application/rss+xml") -> SourceResult:
    with serve({"/feed": Reply(body, content_type)}) as server:
        (result,) = crawl_sync([Source("Blog", "feed", f"{server.base}/feed")], POLICY)
    return result


@pytest.mark.parametrize("body", [b"", b"\n  \n"])
def test_an_empty_200_is_a_failure(body: bytes, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    with serve({"/feed": Reply(body, "application/rss+xml")}) as server:
        report = pipeline.crawl([Source("Blog", "feed", f"{server.base}/feed")], store, POLICY)
    (failed,) = report.failed
    assert failed.error == (
        f"{server.base}/feed answered 200 with an empty body; the source may be broken on the "
        "site's side — try again later, or check the URL in sources.yaml"
    )
    health = store.source_health()["Blog"]
    assert health.failures == 1 and health.last_success is None


def test_a_salvaged_feed_is_shown_by_status_and_sources_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _item("First", 1) + _item("Second", 2) + _item("Third", 3)
    routes = {
        "/cut": Reply(_rss(items)[:-60], "application/rss+xml"),  # cut off inside the 3rd
        "/nul": Reply(_rss(_item("Nul\0 in it", 4) + _item("Fine", 5)), "application/rss+xml"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        (tmp_path / "sources.yaml").write_text(
            "sources:\n"
            f"  - {{name: Cut, kind: feed, url: '{server.base}/cut', full_text: false}}\n"
            f"  - {{name: Nul, kind: feed, url: '{server.base}/nul', full_text: false}}\n"
        )
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "d.db"}"\n'
            '[crawl]\nallowed_hosts = ["127.0.0.1"]\nhost_delay = 0\n'
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cli.console, "width", 400)
            assert cli.main(["init", "--config", str(config)]) == 0
            assert cli.main(["crawl", "--config", str(config)]) == 0
            crawled = capsys.readouterr().out
            assert cli.main(["sources", "check", "--config", str(config)]) == 0
            checked = capsys.readouterr().out
            cli.main(["status", "--config", str(config)])
            shown = capsys.readouterr().out
    cut = f"{server.base}/cut is cut off or malformed (not well-formed XML at line 1: "
    nul = f"{server.base}/nul has 1 control character (such as NUL) that XML does not allow"
    for output in (crawled, checked, shown):
        assert cut in output and nul in output, output
    assert "2 read from faulty documents" in checked
    assert "source 'Cut' was read from a faulty document" in shown
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    titles = {a.title for a in store.articles_between(date(1990, 1, 1), date(2100, 1, 1))}
    assert {"First", "Second", "Nul in it", "Fine"} <= titles


def test_one_stray_byte_is_replaced_and_the_rest_decoded_as_declared() -> None:
    items = _item("Café crème", 1) + _item("Naïve Bayes", 2) + _item("Broken STRAY byte", 3)
    body = _rss(items).replace(b"STRAY", b"\xff")
    result = _one(body)
    assert sorted(a.title for a in result.articles) == [
        "Broken \ufffd byte",
        "Café crème",
        "Naïve Bayes",
    ]
    assert result.warnings == (
        f"{result.source.url} has 1 byte that is not valid utf-8; replaced with \ufffd, "
        "the rest was read",
    )


@pytest.mark.parametrize("charset", ["", "; charset=utf-8"])  # a server's default
def test_a_legacy_feed_that_does_not_name_its_encoding_is_still_guessed(charset: str) -> None:
    body = _rss(_item("Café crème", 1), '<?xml version="1.0"?>').decode().encode("cp1252")
    result = _one(body, f"application/rss+xml{charset}")
    assert [a.title for a in result.articles] == ["Café crème"] and not result.warnings


def test_dates_before_the_web_become_the_fetch_time_and_are_kept(tmp_path: Path) -> None:
    items = (
        _item("Epoch", 1, "Thu, 01 Jan 1970 00:00:00 +0000")
        + _item("Last year", 2, "Mon, 07 Jul 2025 10:00:00 +0000")
        + _item("Early web", 3, "Tue, 01 Jan 1991 00:00:00 +0000")
    )
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    before = datetime.now(UTC)
    with serve({"/feed": Reply(_rss(items), "application/rss+xml")}) as server:
        pipeline.crawl([Source("Blog", "feed", f"{server.base}/feed")], store, POLICY)
    stored = {a.title: a for a in store.articles_between(date(1990, 1, 1), date(2100, 1, 1))}
    epoch = stored["Epoch"]
    assert before - timedelta(seconds=1) <= epoch.published_at <= datetime.now(UTC)
    assert epoch.stated_published_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert stored["Last year"].published_at == datetime(2025, 7, 7, 10, tzinfo=UTC)
    assert stored["Early web"].published_at == datetime(1991, 1, 1, tzinfo=UTC)
    assert stored["Last year"].stated_published_at is None


@pytest.mark.skipif(not REPARSES_LARGE_TOKENS, reason="this Python's expat is 2.6 or newer")
def test_a_huge_token_is_refused_before_an_old_expat_parses_it() -> None:
    attribute = "x" * (9 * MiB)
    body = _rss(
        f'<item><title>Big</title><link>https://example.com/b</link><x a="{attribute}"/></item>'
    )
    started = time.monotonic()
    result = _one(body)
    assert result.error is not None, "parsed in quadratic time"
    assert "holds one XML tag, attribute or comment of 9.0 MiB" in result.error
    assert "expat 2.6 or newer" in result.error
    assert time.monotonic() - started < 5


def test_a_big_feed_with_small_tokens_is_read() -> None:
    text = "word " * 40
    items = "".join(
        f"<item><title>Item {n}</title><link>https://example.com/{n}</link>"
        f"<x:extra xmlns:x='urn:x'>{text}</x:extra><description>{text}</description></item>"
        for n in range(2000)
    )
    body = _rss(items)
    assert len(body) > MAX_TOKEN  # feedparser reads it (the fast reader does not know x:)
    result = _one(body)
    assert result.ok and len(result.articles) == 200, result.error


@pytest.mark.skipif(not REPARSES_LARGE_TOKENS, reason="this Python's expat is 2.6 or newer")
def test_the_crawl_command_says_when_expat_is_old(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sources.yaml").write_text("sources: []\n")
    config = tmp_path / "digest.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "d.db"}"\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "width", 400)
        assert cli.main(["init", "--config", str(config)]) == 0
        cli.main(["crawl", "--config", str(config)])
    out = capsys.readouterr().out
    assert "this Python's XML parser is expat 2." in out and "older than 2.6" in out


def test_the_longest_token_is_measured_as_expat_reads_tokens() -> None:
    big = MAX_TOKEN + 10
    assert longest_token(b'<r><x a="' + b"x>" * big + b'"/></r>') > 2 * big  # ">" in a value
    assert longest_token(b"<r><!-- " + b"<a>" * big + b"</r>") > 3 * big  # never closed
    assert longest_token(b"<r><![CDATA[" + b"x" * 2 * big + b"]]></r>") == 0  # in pieces
    assert longest_token(b"<r><d>" + b"x" * 2 * big + b"</d></r>") < 10  # text, not a tag
