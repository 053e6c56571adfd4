"""Atom and RSS 2.0 feeds built with feedgen: one for the newsletter, one per theme."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from feedgen.feed import FeedGenerator
from jinja2 import Environment

from digest.models import Issue
from digest.publish.render import published, render, strip_control, theme_slug
from digest.publish.sanitize import clean_html
from digest.publish.site import ThemePage


def _text(value: str) -> str:
    return " ".join(strip_control(value).split())


def _as_html(value: str) -> str:
    """Plain text for a field readers render as HTML (RSS description, Atom type="html"):
    escaped as HTML here, and escaped again as XML by the feed writer."""
    return html.escape(_text(value), quote=False)


def _feed(title: str, subtitle: str, page_url: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(page_url)
    feed.title(_text(title))
    feed.subtitle(_text(subtitle))  # Atom's subtitle is text; _save escapes RSS's description
    feed.author(name=_text(title))
    feed.language("en")
    return feed


def _save(feed: FeedGenerator, folder: Path, page_url: str, subtitle: str) -> None:
    """Write feed.xml (Atom) and rss.xml, each naming itself as its self link."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, as_bytes in (("feed.xml", feed.atom_str), ("rss.xml", feed.rss_str)):
        # Atom's subtitle is plain text; RSS's channel description is read as HTML.
        feed.subtitle(_as_html(subtitle) if name == "rss.xml" else _text(subtitle))
        # feedgen gives RSS the last link as the channel's <link>: the page, not the file.
        links = [
            {"href": f"{page_url}{name}", "rel": "self"},
            {"href": page_url, "rel": "alternate"},
        ]
        feed.link(links, replace=True)
        (folder / name).write_bytes(as_bytes(pretty=True))


def write_feeds(
    build_dir: Path,
    issues: Sequence[Issue],
    themes: Sequence[ThemePage],
    env: Environment,
    site_title: str,
    base_url: str,
) -> None:
    """feed.xml (Atom) and rss.xml at the root and in every theme's folder; newest first.

    Entry ids are the permanent URLs of issues (and of a theme's section within an issue),
    which depend only on base_url, the issue id and the theme's slug, so they never change
    once published; entry dates are the issue's publication date, not the time of a rebuild.
    """
    context = {"site_title": site_title, "base_url": base_url, "root": base_url}
    subtitle = f"{site_title}: the week's AI news, every sentence cited"
    feed = _feed(site_title, subtitle, base_url)
    feed.updated(max(published(issue) for issue in issues))
    for issue in issues:
        url = f"{base_url}issues/{issue.id}/"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_text(issue.title))
        entry.link(href=url, rel="alternate")
        entry.updated(published(issue))
        entry.published(published(issue))
        entry.summary(_as_html(issue.intro), type="html")
        entry.content(
            clean_html(render(env, "issue_body.html", issue=issue, **context)), type="html"
        )
    _save(feed, build_dir, base_url, subtitle)
    for page in themes:
        slug = theme_slug(page.theme)
        page_url = f"{base_url}themes/{slug}/"
        subtitle = f"{site_title} on {page.theme.name}"
        feed = _feed(f"{page.theme.name} — {site_title}", subtitle, page_url)
        feed.updated(max(published(e.issue) for e in page.entries))
        for item in page.entries:
            url = f"{base_url}issues/{item.issue.id}/#{theme_slug(item.section.theme)}"
            entry = feed.add_entry(order="append")
            entry.id(url)
            entry.guid(url, permalink=True)
            entry.title(_text(f"{item.section.theme.name}: {item.section.summary.headline}"))
            entry.link(href=url, rel="alternate")
            entry.updated(published(item.issue))
            entry.published(published(item.issue))
            entry.summary(_as_html(item.section.summary.headline), type="html")
            body = render(env, "section.html", section=item.section, **context)
            entry.content(clean_html(body), type="html")
        _save(feed, build_dir / "themes" / slug, page_url, subtitle)
