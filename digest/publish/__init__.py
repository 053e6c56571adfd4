"""Publish an issue as a static site, Atom and RSS feeds and an email, all from Issue objects."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from digest.errors import PublishError
from digest.models import Issue
from digest.publish import email, feeds, issue_json, jsonfeed, site
from digest.publish.making import LLMTally, Making, SourceTally, making_from_json, making_to_json
from digest.publish.render import make_environment, theme_slug
from digest.publish.site import SiteRecords
from digest.publish.stories import StoryIndex, StoryRecord

__all__ = [
    "LLMTally",
    "Making",
    "PublishResult",
    "PublishSettings",
    "SiteRecords",
    "SourceTally",
    "StoryRecord",
    "build_site",
    "making_from_json",
    "making_to_json",
    "prepare",
    "publish",
]

# An issue id becomes a folder name and part of URLs and the Message-ID.
_ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class PublishSettings:
    """Where publish writes and how the issue presents itself."""

    site_dir: Path
    email_dir: Path
    base_url: str
    site_title: str = "digest"
    template_dir: Path | None = None
    email_from: str = "digest <digest@example.com>"
    email_to: str = "readers@example.com"
    unsubscribe_mailto: str = ""

    @property
    def unsubscribe_url(self) -> str:
        """The page that handles unsubscribe links (served by `digest serve`)."""
        return f"{self.base_url.rstrip('/')}/unsubscribe/"


@dataclass(frozen=True)
class PublishResult:
    """The files a reader opens: front page, the issue's permanent page, feed and email, and
    the issue as JSON."""

    index: Path
    issue_page: Path
    feed: Path
    email: Path
    issue_json: Path


def prepare(
    issue: Issue,
    settings: PublishSettings,
    preferences: bool = False,
    topic_note: str = "",
    records: SiteRecords | None = None,
) -> email.Edition:
    """The issue's email rendered once, ready to be addressed to each subscriber; with
    preferences, its footer links each subscriber's topic page; with `records`, an update
    links to its story's page on the site."""
    env = make_environment(settings.template_dir)
    if records is not None:
        env.globals["stories"] = StoryIndex(records.stories)
    base_url = _checked_base_url(settings.base_url)
    return email.prepare_edition(
        _unique_slugs(issue),
        env,
        site_title=settings.site_title,
        base_url=base_url,
        preferences=preferences,
        topic_note=topic_note,
    )


def build_site(
    issue: Issue,
    archive: Sequence[Issue],
    settings: PublishSettings,
    records: SiteRecords | None = None,
) -> Path:
    """Rebuild the site, its feeds (Atom, RSS, JSON Feed) and each issue as JSON from the
    archive plus this issue; returns index.html.

    With `records`, the site also has a page per story and a "How this issue was made" page.
    The site is built beside site_dir and swapped in whole, so a failure leaves the
    previous site as it was.
    """
    base_url = _checked_base_url(settings.base_url)
    issues = _newest_first(issue, archive)
    env = make_environment(settings.template_dir)
    try:
        with site.swapped_in(settings.site_dir) as build_dir:
            themes = site.write_pages(
                build_dir, issues, env, settings.site_title, base_url, records
            )
            feeds.write_feeds(build_dir, issues, themes, env, settings.site_title, base_url)
            jsonfeed.write_json_feeds(build_dir, issues, themes, env, settings.site_title, base_url)
            issue_json.write_issue_documents(build_dir, issues, base_url)
    except OSError as exc:
        raise PublishError(
            f"could not write {exc.filename or settings.site_dir}: {exc.strerror or exc}; "
            "check that site_dir is a writable folder"
        ) from exc
    return settings.site_dir / "index.html"


def publish(
    issue: Issue,
    archive: Sequence[Issue],
    settings: PublishSettings,
    records: SiteRecords | None = None,
) -> PublishResult:
    """Rebuild the site and feeds from the archive and write the issue's email as a preview.

    The preview .eml goes to email_to; subscribers get theirs from `digest send`.
    """
    edition = prepare(issue, settings, records=records)
    mailto = email.unsubscribe_mailto(settings.unsubscribe_mailto, settings.email_from)
    preview = edition.message(
        settings.email_from,
        settings.email_to,
        email.Unsubscribe(settings.unsubscribe_url, mailto, ""),
    )
    index = build_site(issue, archive, settings, records)
    email_path = settings.email_dir / f"{issue.id}.eml"
    try:
        email.write_email(preview, email_path)
    except OSError as exc:
        raise PublishError(
            f"could not write {exc.filename or email_path}: {exc.strerror or exc}; "
            "check that email_dir is a writable folder"
        ) from exc
    return PublishResult(
        index=index,
        issue_page=settings.site_dir / "issues" / issue.id / "index.html",
        feed=settings.site_dir / "feed.xml",
        email=email_path,
        issue_json=settings.site_dir / "issues" / f"{issue.id}.json",
    )


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishError(
            f"base_url {base_url!r} is not an absolute http(s) URL; set it to the site's "
            "public address, e.g. 'https://digest.example.com/'"
        )
    return base_url.rstrip("/") + "/"


def _newest_first(issue: Issue, archive: Sequence[Issue]) -> list[Issue]:
    """The archive with this issue in it (replacing an older copy), newest week first."""
    by_id = {i.id: i for i in archive}
    by_id[issue.id] = issue
    for issue_id in by_id:
        if not _ISSUE_ID.fullmatch(issue_id):
            raise PublishError(
                f"issue id {issue_id!r} cannot name a folder or URL; use letters, digits, "
                "'.', '_' and '-' only, e.g. '2026-W47'"
            )
    unique = (_unique_slugs(i) for i in by_id.values())
    return sorted(unique, key=lambda i: (i.week_start, i.id), reverse=True)


def _unique_slugs(issue: Issue) -> Issue:
    """The issue with no two sections sharing a theme slug: the later ones get '-2', '-3'...,
    so that every section keeps its own anchor, page and feed."""
    seen: set[str] = set()
    sections = []
    for section in issue.sections:
        slug = base = theme_slug(section.theme)
        n = 2
        while slug in seen:
            slug, n = f"{base}-{n}", n + 1
        seen.add(slug)
        if slug != theme_slug(section.theme):
            section = replace(section, theme=replace(section.theme, slug=slug))
        sections.append(section)
    return replace(issue, sections=tuple(sections))
