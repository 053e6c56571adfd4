"""Each issue as JSON (checked against its shipped schema); JSON Feed 1.1 for site and topics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest

from digest.publish import PublishSettings, build_site
from digest.publish.issue_json import SCHEMA_FILE, schema_text
from digest.publish.render import theme_slug
from tests.issues import BASE_URL, hostile_issue, two_weeks

JSON_FEED_SCHEMA = Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json"


def _site(tmp_path: Path, newest: Any, archive: list[Any]) -> Path:
    settings = PublishSettings(
        site_dir=tmp_path / "site", email_dir=tmp_path / "email", base_url=BASE_URL
    )
    build_site(newest, archive, settings)
    return tmp_path / "site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    newer, older = two_weeks()
    return _site(tmp_path_factory.mktemp("json"), newer, [older])


def _validate(document: object) -> None:
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def _leaves(value: object, key: str = "") -> list[tuple[str, object]]:
    """Every (key, scalar value) pair in a JSON document."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _leaves(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _leaves(v, key)]
    return [(key, value)]


def test_every_issue_is_published_as_json_valid_against_the_shipped_schema(site: Path) -> None:
    newer, older = two_weeks()
    for issue in (newer, older):
        path = site / "issues" / f"{issue.id}.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        _validate(document)
        assert document["schema_version"] == "1.0"
        assert document["id"] == issue.id and document["title"] == issue.title
        assert document["url"] == f"{BASE_URL}issues/{issue.id}/"
        assert document["json_url"] == f"{BASE_URL}issues/{issue.id}.json"
        assert [s["name"] for s in document["sections"]] == [s.theme.name for s in issue.sections]
        first = document["sections"][0]
        assert first["what_happened"][0]["text"] == issue.sections[0].summary.what_happened[0].text
        assert first["citations"][0]["url"] == issue.sections[0].citations[0].url
        assert first["topic_url"] == f"{BASE_URL}themes/{theme_slug(issue.sections[0].theme)}/"
        datetime.fromisoformat(document["published_at"])
    # the schema the documents name is on the site, identical to the one shipped
    document = json.loads((site / "issues" / f"{newer.id}.json").read_text(encoding="utf-8"))
    assert document["$schema"] == f"{BASE_URL}schemas/{SCHEMA_FILE}"
    assert (site / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


def test_the_schema_refuses_what_a_reader_could_not_rely_on(site: Path) -> None:
    document = json.loads((site / "issues" / "2026-w47.json").read_text(encoding="utf-8"))
    for broken in (
        {k: v for k, v in document.items() if k != "schema_version"},
        {**document, "schema_version": "2.0"},
        {**document, "url": "javascript:alert(1)"},
        {**document, "sections": [{**document["sections"][0], "what_happened": [{"text": "x"}]}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken)


def test_hostile_text_stays_plain_data_and_hostile_links_are_dropped(tmp_path: Path) -> None:
    issue = hostile_issue()
    path = _site(tmp_path, issue, []) / "issues" / f"{issue.id}.json"
    raw = path.read_text(encoding="utf-8")
    assert "<" not in raw and ">" not in raw  # markup only as \u003c escapes
    document = json.loads(raw)
    _validate(document)
    links = [v for k, v in _leaves(document) if k in ("url", "link", "headline_link")]
    assert links and all(v == "" or urlsplit(str(v)).scheme == "https" for v in links)
    assert '"' not in "".join(str(v) for v in links) and "" in links  # quoted, or dropped
    assert "\x00" not in raw and "\x0b" not in raw
    assert "<script>" in document["title"]  # kept as text, for a client to escape


def _json_feed(path: Path) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(JSON_FEED_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(feed)
    for item in feed["items"]:
        assert item["url"].startswith(BASE_URL) and item["content_html"].strip()
        datetime.fromisoformat(item["date_published"])
    return feed


def _atom_ids(path: Path) -> list[str]:
    return [e.id for e in feedparser.parse(path.read_bytes()).entries]


def test_json_feed_is_version_1_1_with_the_atom_feeds_entries(site: Path) -> None:
    feed = _json_feed(site / "feed.json")
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"{BASE_URL}feed.json" and feed["home_page_url"] == BASE_URL
    assert [i["id"] for i in feed["items"]] == _atom_ids(site / "feed.xml")
    assert feed["items"][0]["attachments"][0]["url"] == f"{BASE_URL}issues/2026-w47.json"
    assert [i["url"] for i in feed["items"]] == [
        f"{BASE_URL}issues/2026-w47/",
        f"{BASE_URL}issues/2026-w46/",
    ]
    assert feed["items"][0]["title"] == two_weeks()[0].title


def test_every_topic_has_rss_atom_and_json_feeds_of_its_sections(site: Path) -> None:
    newer, older = two_weeks()
    slugs = {theme_slug(s.theme) for issue in (newer, older) for s in issue.sections}
    assert slugs == {p.name for p in (site / "themes").iterdir() if p.is_dir()}
    for slug in slugs:
        folder = site / "themes" / slug
        feed = _json_feed(folder / "feed.json")
        assert feed["feed_url"] == f"{BASE_URL}themes/{slug}/feed.json"
        assert [i["id"] for i in feed["items"]] == _atom_ids(folder / "feed.xml")
        assert feedparser.parse((folder / "rss.xml").read_bytes()).version == "rss20"
    agents = _json_feed(site / "themes" / "agents" / "feed.json")
    # the topic's sections of both weeks, newest first
    assert [i["url"] for i in agents["items"]] == [
        f"{BASE_URL}issues/2026-w47/#agents",
        f"{BASE_URL}issues/2026-w46/#agents",
    ]
    assert "Coding agents ship to everyone" in agents["items"][0]["content_html"]
