"""The Atom feed: one entry per issue, built with feedgen, content sanitised with nh3."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nh3
from feedgen.feed import FeedGenerator
from jinja2 import Environment

from digest.models import Issue
from digest.publish.render import aware, render, strip_control

# The Sources lists number themselves with <li value="n">; keep that through nh3.
_ALLOWED_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "li": {"value"}}


def write_feed(
    path: Path, issues: Sequence[Issue], env: Environment, site_title: str, base_url: str
) -> None:
    """Write an Atom feed of the issues (newest first) to path."""
    feed = FeedGenerator()
    feed.id(base_url)
    feed.title(strip_control(site_title))
    feed.author(name=strip_control(site_title))
    feed.link(href=base_url, rel="alternate")
    feed.link(href=f"{base_url}feed.xml", rel="self")
    feed.language("en")
    feed.updated(max(aware(issue.built_at) for issue in issues))
    context = {"site_title": site_title, "base_url": base_url, "root": base_url}
    for issue in issues:
        url = f"{base_url}issues/{issue.id}/"
        body = render(env, "issue_body.html", issue=issue, **context)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(strip_control(issue.title))
        entry.link(href=url, rel="alternate")
        entry.updated(aware(issue.built_at))
        entry.published(aware(issue.built_at))
        entry.content(nh3.clean(body, attributes=_ALLOWED_ATTRIBUTES), type="html")
    path.write_bytes(feed.atom_str(pretty=True))
