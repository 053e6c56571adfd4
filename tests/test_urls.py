"""Canonical URLs: every link to one article files it under one address and one id."""

from __future__ import annotations

import pytest

from digest.urls import article_id, canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/Post", "https://example.com/Post"),
        ("http://example.com/post", "https://example.com/post"),
        ("https://www.example.com/post", "https://example.com/post"),
        ("https://m.example.com/post", "https://example.com/post"),
        ("https://amp.example.com/post", "https://example.com/post"),
        ("https://www.m.example.com/post", "https://example.com/post"),
        ("https://example.com:443/post", "https://example.com/post"),
        ("http://example.com:80/post", "https://example.com/post"),
        ("https://example.com/post#comments", "https://example.com/post"),
        ("https://example.com/post/", "https://example.com/post"),
        ("https://example.com/post//", "https://example.com/post"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/post/amp", "https://example.com/post"),
        ("https://example.com/post/amp/", "https://example.com/post"),
        ("https://example.com/post?amp", "https://example.com/post"),
        ("https://example.com/post?amp=1", "https://example.com/post"),
        ("https://example.com/post?output=amp", "https://example.com/post"),
        ("https://example.com/%7Euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
        ("https://example.com/café story", "https://example.com/caf%C3%A9%20story"),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/p?q=a%2fb&x=%41", "https://example.com/p?q=a%2Fb&x=A"),
        ("  https://example.com/post \n", "https://example.com/post"),
        ("https://example.com./post", "https://example.com/post"),
        ("http://[2001:DB8::1]:80/post", "https://[2001:db8::1]/post"),
    ],
)
def test_canonical_url_rules(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_tracking_parameters_are_dropped_and_the_rest_sorted() -> None:
    url = (
        "https://example.com/post?utm_source=rss&b=2&UTM_Campaign=x&fbclid=1&gclid=2"
        "&mc_cid=3&mc_eid=4&ref=hn&ref_src=twsrc&igshid=5&si=6&a=1"
    )
    assert canonical_url(url) == "https://example.com/post?a=1&b=2"


def test_repeated_parameters_keep_their_order() -> None:
    assert canonical_url("https://example.com/p?tag=b&id=1&tag=a") == (
        "https://example.com/p?id=1&tag=b&tag=a"
    )


def test_meaningful_query_parameters_are_kept() -> None:
    url = "https://example.com/watch?v=abc123&page=2&reference=x"
    assert canonical_url(url) == "https://example.com/watch?page=2&reference=x&v=abc123"


def test_host_prefixes_are_not_stripped_down_to_a_bare_domain() -> None:
    assert canonical_url("https://m.com/post") == "https://m.com/post"
    assert canonical_url("https://www.com/post") == "https://www.com/post"


def test_http_with_an_explicit_port_stays_http() -> None:
    # Upgrading http://host:8080 to https://host:8080 would give a link that does not open.
    assert canonical_url("http://example.com:8080/post") == "http://example.com:8080/post"


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "/relative/path",
        "mailto:someone@example.com",
        "javascript:alert(1)",
        "ftp://example.com/file",
        "https:///no-host",
    ],
)
def test_non_web_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="not an absolute http"):
        canonical_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://WWW.Example.com:80/a/b/amp/amp/?utm_medium=x&z=1&a=%7e%zz#frag",
        "https://m.example.com/caf%c3%a9/?q=a b&amp",
        "https://example.com/amp",
        "https://example.com/p?a=1&a=0&&",
        "https://user@www.example.com/p",
    ],
)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_article_id_is_the_same_for_every_link_to_one_article() -> None:
    ids = {
        article_id("https://example.com/post"),
        article_id("http://www.example.com/post/?utm_source=rss#top"),
        article_id("https://m.example.com/post/amp"),
    }
    assert len(ids) == 1
    (only,) = ids
    assert len(only) == 16
    assert int(only, 16) >= 0  # hex


def test_article_id_is_stable_across_runs() -> None:
    # Pinned: ids are stored, so a change here orphans every article already in a database.
    assert article_id("https://example.com/post") == "061128ccde4ce470"


def test_different_articles_get_different_ids() -> None:
    assert article_id("https://example.com/a") != article_id("https://example.com/b")
