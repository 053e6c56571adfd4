"""JSON Feed 1.1 (feed.json) for the newsletter and for each topic, beside Atom and RSS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment

from digest.models import Issue
from digest.publish.issue_json import dumps
from digest.publish.render import published, render, strip_control, theme_slug
from digest.publish.sanitize import clean_html
from digest.publish.site import ThemePage

VERSION = "https://jsonfeed.org/version/1.1"


def _text(value: str) -> str:
    return " ".join(strip_control(value).split())


def _feed(title: str, description: str, page_url: str, items: list[dict[str, Any]]) -> str:
    feed = {
        "version": VERSION,
        "title": _text(title),
        "home_page_url": page_url,
        "feed_url": f"{page_url}feed.json",
        "description": _text(description),
        "language": "en",
        "authors": [{"name": _text(title)}],
        "items": items,
    }
    return dumps(feed) + "\n"


def write_json_feeds(
    build_dir: Path,
    issues: Sequence[Issue],
    themes: Sequence[ThemePage],
    env: Environment,
    site_title: str,
    base_url: str,
) -> None:
    """feed.json at the root (an item per issue) and in every topic's folder (an item per
    section of that topic); newest first, ids and dates as in the Atom feeds."""
    context = {"site_title": site_title, "base_url": base_url, "root": base_url}
    items = []
    for issue in issues:
        url = f"{base_url}issues/{issue.id}/"
        body = render(env, "issue_body.html", issue=issue, **context)
        items.append(
            {
                "id": url,
                "url": url,
                "title": _text(issue.title),
                "summary": _text(issue.intro),
                "content_html": clean_html(body),
                "date_published": published(issue).isoformat(),
                "tags": [_text(s.theme.name) for s in issue.sections],
                "attachments": [
                    {"url": f"{base_url}issues/{issue.id}.json", "mime_type": "application/json"}
                ],
            }
        )
    description = f"{site_title}: the week's AI news, every sentence cited"
    (build_dir / "feed.json").write_text(
        _feed(site_title, description, base_url, items), encoding="utf-8"
    )
    for page in themes:
        slug = theme_slug(page.theme)
        page_url = f"{base_url}themes/{slug}/"
        items = []
        for entry in page.entries:
            url = f"{base_url}issues/{entry.issue.id}/#{theme_slug(entry.section.theme)}"
            body = render(env, "section.html", section=entry.section, **context)
            items.append(
                {
                    "id": url,
                    "url": url,
                    "title": _text(f"{entry.section.theme.name}: {entry.section.summary.headline}"),
                    "summary": _text(entry.section.summary.headline),
                    "content_html": clean_html(body),
                    "date_published": published(entry.issue).isoformat(),
                    "tags": [slug],
                }
            )
        folder = build_dir / "themes" / slug
        folder.mkdir(parents=True, exist_ok=True)
        title = f"{page.theme.name} — {site_title}"
        (folder / "feed.json").write_text(
            _feed(title, f"{site_title} on {page.theme.name}", page_url, items), encoding="utf-8"
        )
