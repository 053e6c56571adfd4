"""crawl.allowed_hosts opens one private origin to the source whose URL is there, no more."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.allowance import Origin, parse_allowance, private_origin
from digest.config import load_settings
from digest.crawl import FetchPolicy, crawl_sync
from digest.errors import ConfigError
from digest.models import Source
from tests.loopback import Reply, Server, serve

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>Hello</title><link>https://example.com/hello</link></item></channel></rss>"
)


def _policy(*allowed: str) -> FetchPolicy:
    return FetchPolicy(
        allowed_hosts=frozenset(allowed), connect_timeout=1.0, read_timeout=1.0, deadline=3.0
    )


@pytest.fixture
def admin() -> Iterator[Server]:
    """An admin endpoint on another port of the same loopback host: never to be reached."""
    with serve({"/admin": Reply(FEED, "application/rss+xml")}) as server:
        yield server


def test_a_redirect_to_another_port_of_an_allowed_host_is_refused(admin: Server) -> None:
    to_admin = Reply(status=302, headers={"Location": f"{admin.base}/admin"})
    with serve({"/feed": to_admin}) as site:
        (result,) = crawl_sync([Source("Blog", "feed", f"{site.base}/feed")], _policy("127.0.0.1"))
    assert admin.requests == []
    assert result.error == (
        f"refused to follow {site.base}/feed to {admin.base}/admin: 127.0.0.1 resolves to "
        "127.0.0.1, a loopback address; crawl.allowed_hosts lets a source reach a private "
        "address only at the origin of its own URL"
    )


def test_an_allowance_serves_only_the_source_whose_url_is_on_it() -> None:
    with (
        serve({"/feed": Reply(FEED, "application/rss+xml")}, host="127.0.0.2") as lan,
        serve({"/feed": Reply(status=307, headers={"Location": f"{lan.base}/feed"})}) as other,
    ):
        sources = [Source(n, "feed", f"{s.base}/feed") for n, s in (("LAN", lan), ("Other", other))]
        lan_result, other_result = crawl_sync(sources, _policy(lan.base, other.base))
    assert lan_result.ok and [a.title for a in lan_result.articles] == ["Hello"]
    assert other_result.error is not None and "refused to follow" in other_result.error
    assert len(lan.hits("/feed")) == 1  # asked for LAN only, never on Other's behalf


def test_an_origin_entry_opens_that_scheme_host_and_port_only() -> None:
    with serve({"/feed": Reply(FEED, "application/rss+xml")}, host="127.0.0.2") as lan:
        url = f"{lan.base}/feed"
        (ok,) = crawl_sync([Source("LAN", "feed", url)], _policy(lan.base))
        port = int(lan.base.rsplit(":", 1)[1])
        for entry in (f"https://127.0.0.2:{port}", f"http://127.0.0.2:{port + 1}"):
            (refused,) = crawl_sync([Source("LAN", "feed", url)], _policy(entry))
            assert refused.error is not None and "a loopback address" in refused.error
    assert ok.ok, ok.error


def test_allowances_parse() -> None:
    assert private_origin("http://127.0.0.2:8080/feed", ["127.0.0.2"]) == Origin(
        "http", "127.0.0.2", 8080
    )
    assert private_origin("https://intranet.lan/feed", ["http://intranet.lan"]) is None
    assert private_origin("https://intranet.lan/feed", ["HTTPS://Intranet.LAN:443/"]) == Origin(
        "https", "intranet.lan", 443
    )
    assert private_origin("http://[::1]:81/x", ["[::1]"]) == Origin("http", "::1", 81)
    assert str(Origin("http", "::1", 81)) == "http://[::1]:81"
    for bad in ("http://host/feed", "ftp://host", "host:8080", ""):
        with pytest.raises(ValueError):
            parse_allowance(bad)


def test_a_bad_entry_in_the_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[crawl]\nallowed_hosts = ["127.0.0.2:8080"]\n')
    with pytest.raises(ConfigError, match=r"crawl\.allowed_hosts.*'http://127\.0\.0\.2:8080'"):
        load_settings(config)


def test_a_redirect_to_a_data_url_is_a_one_line_error(caplog: pytest.LogCaptureFixture) -> None:
    to_data = Reply(status=302, headers={"Location": "data:text/html,<script>alert(1)</script>"})
    with serve({"/feed": to_data}) as site:
        (result,) = crawl_sync([Source("Blog", "feed", f"{site.base}/feed")], _policy("127.0.0.1"))
    assert result.error == (
        f"refused to follow {site.base}/feed to data:text/html,<script>alert(1)</script>: "
        "only http and https URLs are fetched, so this feed cannot be read"
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback
