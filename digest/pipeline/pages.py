"""What the site shows beside the issues, from the store: story pages, how each issue was made."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from digest.config import Settings
from digest.models import Article, Issue
from digest.pipeline.week import Week
from digest.pipeline.wiring import publish_settings
from digest.publish import (
    LLMTally,
    Making,
    PublishResult,
    SiteRecords,
    SourceTally,
    StoryRecord,
    build_site,
    making_from_json,
    making_to_json,
    publish,
)
from digest.store import Store
from digest.store.runs import Run, RunLog
from digest.write import WriteReport


def told(store: Store, issue: Issue) -> list[str]:
    """The ids of the stories an issue tells, each once: its sections' stories, then the stored
    stories of their articles (selection may tell pieces of one event as one story) and of
    the articles its quick hits, papers and things to watch cite."""
    stories = [s for section in issue.sections for s in section.theme.stories]
    notes = (*issue.quick_hits, *issue.research, *issue.watch)
    articles = [a.id for s in stories for a in s.articles]
    articles += [c.article_id for note in notes for c in note.citations]
    return list(dict.fromkeys([*(s.id for s in stories), *store.story_of(articles).values()]))


def told_stories(store: Store, issues: Sequence[Issue]) -> tuple[StoryRecord, ...]:
    """Every story the issues told or an issue once published, with all its articles in the
    store (any week), titled as its newest issue titled it."""
    carried: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    shown: dict[str, dict[str, Article]] = {}  # the articles issues told under each story id
    for issue in sorted(issues, key=lambda i: (i.week_start, i.id)):
        for story in (s for sec in issue.sections for s in sec.theme.stories):
            titles[story.id] = story.title
            shown.setdefault(story.id, {}).update({a.id: a for a in story.articles})
        for story_id in told(store, issue):
            carried.setdefault(story_id, []).append(issue.id)
    for story_id in store.published_stories():  # a page once published stays, told or not now
        carried.setdefault(story_id, [])
    members = store.stories_articles(list(carried))
    found = store.articles_by_id([a for ids in members.values() for a in ids])
    articles = {a.id: a for a in found}
    records = []
    for story_id, issue_ids in carried.items():
        mine = {a: articles[a] for a in members.get(story_id, ()) if a in articles}
        if not mine:
            continue  # a story the store does not hold (an issue made elsewhere)
        mine.update(shown.get(story_id, {}))
        ordered = sorted(mine.values(), key=lambda a: (a.published_at, a.id))
        title = titles.get(story_id) or ordered[0].title
        records.append(StoryRecord(story_id, title, tuple(ordered), tuple(issue_ids)))
    return tuple(records)


def site_records(store: Store, issues: Sequence[Issue]) -> SiteRecords:
    makings = {i: making_from_json(body) for i, (_, body) in store.makings().items()}
    return SiteRecords(told_stories(store, issues), makings)


def publish_site(store: Store, issue: Issue, settings: Settings) -> PublishResult:
    """Publish the issue with the archive, its story pages and how-made pages."""
    archive = store.issues()
    everything = [issue, *(i for i in archive if i.id != issue.id)]
    records = site_records(store, everything)
    return publish(issue, archive, publish_settings(settings), records)


def preview_site(store: Store, issue: Issue, settings: Settings, folder: Path) -> Path:
    """The site with a draft in it, built in `folder`."""
    archive = [i for i in store.issues() if i.id != issue.id]
    records = site_records(store, [issue, *archive])
    return build_site(issue, archive, replace(publish_settings(settings), site_dir=folder), records)


_DROPS = (
    ("bad_citation", "citing the wrong source"),
    ("made_up_quote", "a quote no source has"),
    ("foreign_link", "a link no source gives"),
    ("unsupported", "not supported by its sources"),
    ("instruction", "an order to a model"),
    ("unknown_name", "a name or number no source gives"),
)


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


def _public(error: str) -> str:
    """A crawl error fit to publish: each URL in it without its user, password or query,
    which may hold a private feed's token."""

    def bare(match: re.Match[str]) -> str:
        parts = urlsplit(match.group(0))
        host = parts.hostname or ""
        try:
            netloc = f"{host}:{parts.port}" if parts.port else host
        except ValueError:  # a port that is not a number
            netloc = host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    return _URL.sub(bare, error)


def _crawls(store: Store, issue: Issue, kept: dict[str, tuple[datetime, str]]) -> list[Run]:
    """The crawl runs that fed the issue: those since the issue before it was made (since its
    week began, for the first). An issue made again after a later one keeps the crawls its
    record names, which the later issue's record counts from."""
    runs = RunLog(store).runs_since
    if issue.id in kept and any(i > issue.id for i in kept):
        old = making_from_json(kept[issue.id][1])
        if old.first_crawl is None or old.last_crawl is None:
            return []
        last = old.last_crawl
        return [r for r in runs("crawl", old.first_crawl) if r.started_at <= last]
    before = [made for i, (made, _) in kept.items() if i < issue.id]
    since = max(before, default=Week(issue.week_start).start)
    # The issue's build time is kept to the second: a crawl that began within that second fed it.
    return [
        r for r in runs("crawl", since) if r.started_at.replace(microsecond=0) <= issue.built_at
    ]


def keep_making(
    store: Store,
    settings: Settings,
    issue: Issue,
    considered: int,
    writing: WriteReport,
    fresh: bool,
) -> None:
    """Record how the issue was made, from the store's crawl runs and the write report.

    `considered` is how many of the week's articles analysis weighed for the issue. An issue
    made again unchanged (`fresh` false) keeps the record of the run that first made it.
    """
    kept = store.makings()
    if not fresh and issue.id in kept:
        return
    week = Week(issue.week_start)
    runs = _crawls(store, issue, kept)
    read = store.articles_between(week.monday, week.monday + timedelta(days=7))
    tallies: dict[str, SourceTally] = {}
    for run in runs:
        for name in run.sources:
            t = tallies.get(name) or SourceTally(name, 0, 0)
            error = _public(run.errors.get(name, ""))
            tallies[name] = replace(
                t, crawls=t.crawls + 1, failed=t.failed + bool(error), error=error or t.error
            )
    sources = tuple(
        replace(t, articles=sum(1 for a in read if a.source == t.name)) for t in tallies.values()
    )
    g = writing.grounding
    usage = writing.usage
    llm = None
    if usage is not None:
        model = settings.writer.model or f"{writing.backend} (default model)"
        llm = LLMTally(
            model,
            usage.calls,
            usage.cached,
            usage.failed,
            usage.retries,
            usage.input_tokens,
            usage.output_tokens,
            usage.cost,
        )
    making = Making(
        issue_id=issue.id,
        made_at=issue.built_at,
        crawls=len(runs),
        first_crawl=runs[0].started_at if runs else None,
        last_crawl=runs[-1].started_at if runs else None,
        sources=sources,
        articles=len(read),
        considered=considered,
        stories=len(set(store.story_of([a.id for a in read]).values())),
        themes=len(issue.sections),
        told=len(told(store, issue)),
        writer=writing.backend,
        checked=g.checked,
        dropped=tuple((label, n) for key, label in _DROPS if (n := getattr(g, key))),
        rewritten=g.regenerated,
        repeated=writing.repeated,
        off_style=writing.off_style,
        llm=llm,
        fallbacks=tuple(writing.fallbacks),
    )
    store.save_making(issue.id, issue.built_at, making_to_json(making))
