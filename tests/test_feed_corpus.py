"""Every file of six feed parsers' test suites, through the `feed` source over loopback."""

from __future__ import annotations

from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from digest.crawl import FetchPolicy, crawl_sync
from digest.models import Source
from tests.loopback import Reply, send, serve

_TYPES = {".json": "application/json", ".html": "text/html", ".htm": "text/html"}


def test_the_feed_parsing_corpus_never_crashes_the_crawler(shared_data: Path) -> None:
    corpus = shared_data / "feed_parsing_corpus"
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix != ".md")
    files = [p for p in files if not p.name.startswith("LICENSE")]

    def from_disk(handler: BaseHTTPRequestHandler) -> None:
        path = corpus / unquote(urlsplit(handler.path).path).removeprefix("/corpus/")
        kind = _TYPES.get(path.suffix, "application/xml")
        send(handler, Reply(path.read_bytes(), kind))

    routes = {f"/corpus/{p.relative_to(corpus)}": from_disk for p in files}
    with serve(routes) as server:  # type: ignore[arg-type]
        sources = [
            Source(
                str(p.relative_to(corpus)), "feed", f"{server.base}/corpus/{p.relative_to(corpus)}"
            )
            for p in files
        ]
        policy = FetchPolicy(
            allowed_hosts=frozenset({"127.0.0.1"}), concurrency=16, per_host=16, deadline=20.0
        )
        results = crawl_sync(sources, policy)
    outcome: Counter[str] = Counter()
    for result in results:
        assert result.error is None or not result.error.startswith("unexpected"), (
            result.source.name,
            result.error,
        )
        if result.error:
            assert result.source.url in result.error or "could not" in result.error
            outcome["readable error"] += 1
        else:
            outcome["articles" if result.articles else "no items"] += 1
    articles = sum(len(r.articles) for r in results)
    by_suite = Counter(r.source.name.split("/")[0] for r in results if r.articles)
    print(
        f"\n{len(files)} files: {dict(outcome)}; {articles} articles; "
        f"files with articles by suite: {dict(by_suite)}"
    )
    assert len(results) == len(files) > 3000
    # Most parser test files hold a single field and no link, so few yield articles.
    assert outcome["articles"] > 100 and by_suite["feed-rs"] > 20
