"""The one place that runs the stages in order: crawl, analyze, write, publish.

It is also the only room that imports the stages: `ops` and `cli` reach them through the
names in __all__.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from digest.analyze import (
    Embedder,
    MemoryCache,
    TopicNamer,
    VectorCache,
    WeekAnalysis,
    compare_weeks,
    embed_articles,
    load_topics,
    make_embedder,
    make_story,
    plan_issue,
    week_stories,
)
from digest.analyze.cluster import write_assignments
from digest.analyze.items import read_items
from digest.config import Settings
from digest.crawl import SourceResult
from digest.crawl.expat import slow_expat_notice
from digest.crawl.http import FetchPolicy
from digest.crawl.sources import load_sources
from digest.errors import AnalyzeError, ConfigError, PublishError
from digest.models import Issue, Source, Story
from digest.pipeline.clustering import cluster_items
from digest.pipeline.crawling import STOPPED, CrawlReport, SourceOutcome, crawl
from digest.pipeline.deliver import DeliveryReport, announce, deliver_issue, ready_to_announce
from digest.pipeline.discussions import with_reporting
from digest.pipeline.executors import close_executors, executor_for
from digest.pipeline.mail import SendReport, send_issue, unsubscriber
from digest.pipeline.pages import keep_making, preview_site, publish_site
from digest.pipeline.serving import Served, site_app
from digest.pipeline.week import Week, issue_id, latest_week, parse_week
from digest.pipeline.wiring import Say, fetch_policy, publish_settings, quiet, smtp_settings
from digest.pipeline.writing import make_writer, write, write_reported
from digest.publish import PublishResult
from digest.publish.draft import apply_markdown, to_markdown
from digest.publish.headers import set_header
from digest.publish.send import summary as send_summary
from digest.publish.serve import listening_socket
from digest.publish.serve import serve as serve_forever
from digest.publish.tokens import unsubscribe_secret
from digest.store import Store, StoreMissingError
from digest.store.mailing import AddReport, Mailing
from digest.store.runs import LockHolder, Run, RunLog
from digest.store.signups import Signups
from digest.write import (
    CheckReport,
    Grounder,
    SentenceVectors,
    WriteReport,
    check_issue,
    cited_ids,
)

_quiet = quiet  # the default `say` of the functions below

# The days before a week whose titles tell which names with versions are old ("DeepSeek R1").
NAMES_BEFORE = timedelta(days=14)

__all__ = [
    "STOPPED",
    "AddReport",
    "BuildReport",
    "CheckReport",
    "CrawlReport",
    "DeliveryReport",
    "DraftReport",
    "Embedder",
    "FetchPolicy",
    "LockHolder",
    "Mailing",
    "MemoryCache",
    "PublishReport",
    "PublishResult",
    "Run",
    "RunLog",
    "Say",
    "SendReport",
    "Served",
    "Signups",
    "SourceOutcome",
    "SourceResult",
    "Store",
    "StoreMissingError",
    "VectorCache",
    "Week",
    "WeekAnalysis",
    "WeeklyReport",
    "WriteReport",
    "analyze",
    "build",
    "check",
    "check_week",
    "close_executors",
    "cluster_items",
    "crawl",
    "deliver_issue",
    "draft",
    "draft_path",
    "executor_for",
    "fetch_policy",
    "issue_id",
    "latest_week",
    "listening_socket",
    "load_embedder",
    "load_sources",
    "make_embedder",
    "make_writer",
    "paper_sources",
    "parse_week",
    "preview_draft",
    "publish_draft",
    "publish_settings",
    "quiet",
    "read_items",
    "send_issue",
    "send_summary",
    "serve_forever",
    "set_header",
    "site_app",
    "slow_expat_notice",
    "smtp_settings",
    "unsubscriber",
    "weekly_issue",
    "write",
    "write_assignments",
    "write_reported",
]


@dataclass(frozen=True)
class BuildReport:
    issue: Issue
    published: PublishResult
    articles: int
    stories: int
    writing: WriteReport | None = None


def _week_stories(
    store: Store, embedder: Embedder, monday: date, settings: Settings, this_issue: str
) -> tuple[list[Story], np.ndarray]:
    """Assign the week's new articles to stories (stable ids) and return the week's stories."""
    week = Week(monday)
    articles = store.articles_between(week.monday, week.end.date())
    if not articles:
        raise AnalyzeError(
            f"no articles published in week {week.id}; crawl first or pick another --week"
        )
    window = timedelta(days=settings.analyze.story_window_days)
    threshold = settings.analyze.story_threshold
    return week_stories(articles, store, embedder, store, week.start, threshold, window, this_issue)


def _published_before(
    store: Store, embedder: Embedder, monday: date, settings: Settings
) -> tuple[list[Story], np.ndarray | None]:
    """Stories an earlier issue published that have articles within the story window before
    the week, as they stood then, with their unit centroids."""
    start = Week(monday).start
    members = store.story_members(start - timedelta(days=settings.analyze.story_window_days))
    published = store.published_in(list(members))
    this_issue = issue_id(monday)
    ids = [s for s in members if published.get(s, this_issue) != this_issue]
    by_id = {a.id: a for a in store.articles_by_id([i for s in ids for i in members[s]])}
    stories, centroids = [], []
    for story_id in ids:
        articles = [by_id[i] for i in members[story_id] if by_id[i].published_at < start]
        if articles:
            story, centroid = make_story(
                story_id, articles, embed_articles(articles, embedder, store), True
            )
            stories.append(story)
            centroids.append(centroid)
    return stories, np.vstack(centroids) if centroids else None


def analyze(
    store: Store,
    embedder: Embedder,
    monday: date,
    settings: Settings,
    weights: dict[str, float],
    paper_sources: frozenset[str] = frozenset(),
    general_sources: frozenset[str] = frozenset(),
) -> WeekAnalysis:
    """Stories and themes of the week; themes compared with last week's, and kept for the next."""
    stories, centroids = _week_stories(store, embedder, monday, settings, issue_id(monday))
    earlier, earlier_centroids = _published_before(store, embedder, monday, settings)
    week_end = datetime.combine(monday + timedelta(days=7), time(), UTC)
    a = settings.analyze
    namer = TopicNamer(load_topics(a.topics), embedder.embed)
    analysis = plan_issue(
        stories,
        centroids,
        weights,
        week_end,
        a.min_theme_size,
        a.max_themes,
        paper_sources,
        namer,
        general_sources,
        earlier,
        earlier_centroids,
        before=[a.title for a in store.articles_between(monday - NAMES_BEFORE, monday)],
    )
    week = Week(monday)
    themes = compare_weeks(analysis.themes, analysis.centroids, store, week.id, week.previous().id)
    return replace(analysis, themes=themes)


def paper_sources(sources: Sequence[Source]) -> frozenset[str]:
    """Sources whose every item is a paper: tagged 'papers' (or 'paper') in sources.yaml."""
    return frozenset(s.name for s in sources if {"paper", "papers"} & set(s.tags))


def general(sources: Sequence[Source]) -> frozenset[str]:
    """Sources configured `general: true`: their items need not be about AI to make the issue."""
    return frozenset(s.name for s in sources if s.general)


def load_embedder(settings: Settings) -> Embedder:
    return executor_for(settings.executor).embedder(settings.embed)


@dataclass(frozen=True)
class MadeIssue:
    """A week's issue as `week_issue` made it, what it was made from, and how writing went."""

    issue: Issue
    articles: int
    stories: int
    writing: WriteReport


def week_issue(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    monday: date,
    embedder: Embedder,
    say: Say = _quiet,
) -> MadeIssue:
    """The one function that makes a week's issue; build, draft, run and the scheduler call it.

    Stories and themes (papers by their sources' tags), written by the configured writer with
    its responses cached in the store. An issue unchanged but for its build time is the one
    made before (published, else drafted), so rebuilding an unchanged week changes nothing.
    """
    say(f"grouping week {issue_id(monday)} into stories and themes")
    weights = {s.name: s.weight for s in sources}
    analysis = analyze(
        store, embedder, monday, settings, weights, paper_sources(sources), general(sources)
    )
    say(f"writing {len(analysis.themes)} themes")
    issue, writing = write_reported(analysis, embedder, monday, settings, store)
    issue = with_reporting(issue, analysis, store, sources, settings, say)
    previous = store.issue(issue.id) or Mailing(store.engine).draft(issue.id)
    same = previous and replace(previous, built_at=issue.built_at, published_at=None) == issue
    issue = previous if same and previous is not None else issue
    stories = len(analysis.unthemed) + sum(len(t.stories) for t in analysis.themes)
    count = sum(len(s.articles) for t in analysis.themes for s in t.stories)
    count += sum(len(s.articles) for s in analysis.unthemed)
    keep_making(store, settings, issue, count, writing, fresh=not same)
    return MadeIssue(issue, count, stories, writing)


def build(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    week: date | None = None,
    embedder: Embedder | None = None,
    say: Say = _quiet,
) -> BuildReport:
    """Make and publish one week's issue (the week of the newest article by default)."""
    monday = week or latest_week(store)
    say(f"loading the embedding model {settings.embed.model}")
    embedder = embedder or load_embedder(settings)
    made = week_issue(settings, store, sources, monday, embedder, say)
    issue = store.save_issue(made.issue)
    say("publishing site, feed and email")
    result = publish_site(store, issue, settings)
    return BuildReport(issue, result, made.articles, made.stories, made.writing)


@dataclass(frozen=True)
class DraftReport:
    """A draft awaiting review: the Markdown to edit and the preview site of the draft."""

    issue: Issue
    markdown: Path
    preview: Path
    check: CheckReport | None = None  # the editorial check of the draft as written
    writing: WriteReport | None = None  # how writing went, when the draft was just made


@dataclass(frozen=True)
class PublishReport:
    issue: Issue
    published: PublishResult
    sent: SendReport | None
    delivered: DeliveryReport | None = None  # the webhooks


def draft_path(settings: Settings, issue_id: str) -> Path:
    return settings.site.drafts / f"{issue_id}.md"


def draft(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    week: date | None = None,
    embedder: Embedder | None = None,
    say: Say = _quiet,
    fresh: bool = False,
) -> DraftReport:
    """Analyze and write one week as a draft: stored, as Markdown to edit, and as a preview site.

    An existing draft file (perhaps edited) is never overwritten unless fresh is set.
    """
    monday = week or latest_week(store)
    markdown = draft_path(settings, issue_id(monday))
    if markdown.exists() and not fresh:
        raise PublishError(
            f"{markdown} exists and may hold your edits; run `digest draft --preview` to see them, "
            "or `digest draft --fresh` to rebuild the draft and lose them"
        )
    say(f"loading the embedding model {settings.embed.model}")
    embedder = embedder or load_embedder(settings)
    made = week_issue(settings, store, sources, monday, embedder, say)
    issue = made.issue
    Mailing(store.engine).save_draft(issue)
    _write_atomically(markdown, to_markdown(issue))
    say("checking the draft")
    checked = check(settings, store, issue, embedder)
    preview = _preview(settings, store, issue)
    return DraftReport(issue, markdown, preview, checked, made.writing)


def check(
    settings: Settings, store: Store, issue: Issue, embedder: Embedder | None = None
) -> CheckReport:
    """The editorial check of an issue: every house rule it breaks, and its grounding."""
    embedder = embedder or load_embedder(settings)
    articles = {a.id: a for a in store.articles_by_id(cited_ids(issue))}
    grounder = Grounder(SentenceVectors(embedder.embed), settings.writer.support_threshold)
    return check_issue(issue, articles, grounder)


def check_week(
    settings: Settings, store: Store, issue: str | None = None, embedder: Embedder | None = None
) -> CheckReport:
    """The editorial check of a week's draft, with the editor's edits (else of the week's
    published issue); the newest draft, else the newest issue, when no week is given."""
    mailing = Mailing(store.engine)
    if mailing.draft(issue) is not None:
        edited, _ = _edited_draft(settings, store, issue)
    elif (published := _published(store, issue)) is not None:
        edited = published
    else:
        week = f" of {issue}" if issue else ""
        raise PublishError(f"no issue{week} in the store to check; run `digest draft` first")
    return check(settings, store, edited, embedder)


def _published(store: Store, issue: str | None) -> Issue | None:
    """The published issue of that week, else the newest when no week is given."""
    if issue is not None:
        return store.issue(issue)
    return next(iter(store.issues()), None)


def preview_draft(settings: Settings, store: Store, issue: str | None = None) -> DraftReport:
    """Rebuild the draft's preview site with the edits made to its Markdown so far."""
    edited, markdown = _edited_draft(settings, store, issue)
    return DraftReport(edited, markdown, _preview(settings, store, edited))


def publish_draft(
    settings: Settings,
    store: Store,
    issue: str | None = None,
    send: bool = True,
    say: Say = _quiet,
    force: bool = False,
    embedder: Embedder | None = None,
    webhooks: bool = True,
) -> PublishReport:
    """Publish the edited draft: the site and feeds first, then webhooks, then the email.

    A draft that breaks an editorial rule (see `check`) is refused unless `force` is set.
    """
    ready_to_announce(settings, send, webhooks)
    edited, markdown = _edited_draft(settings, store, issue)
    if not force:
        say("checking the draft")
        checked = check(settings, store, edited, embedder)
        if not checked.ok:
            first = checked.violations[0]
            raise PublishError(
                f"draft {edited.id} breaks {len(checked.violations)} editorial rule(s), the "
                f"first: {first.rule} at {first.where}: {first.detail}; run `digest check` to "
                f"see them all and fix {markdown}, or publish anyway with `digest publish --force`"
            )
    edited = store.save_issue(edited)
    say("publishing site and feeds")
    result = publish_site(store, edited, settings)
    sent, delivered = announce(settings, store, edited.id, send, webhooks, say)
    return PublishReport(edited, result, sent, delivered)


def _edited_draft(settings: Settings, store: Store, issue: str | None) -> tuple[Issue, Path]:
    original = Mailing(store.engine).draft(issue)
    if original is None:
        raise PublishError(f"no draft {issue or ''} in the store; run `digest draft` first")
    markdown = draft_path(settings, original.id)
    try:
        text = markdown.read_text(encoding="utf-8")
    except OSError as exc:
        raise PublishError(
            f"cannot read the draft {markdown} ({exc.strerror}); run `digest draft --fresh`"
        ) from exc
    return apply_markdown(original, text, str(markdown)), markdown


def _preview(settings: Settings, store: Store, issue: Issue) -> Path:
    return preview_site(store, issue, settings, settings.site.drafts / issue.id / "site")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True)
class WeeklyReport:
    """What the weekly job made of its week: a draft to review, or an issue published and sent."""

    issue: Issue
    action: str
    files: tuple[tuple[str, Path], ...]  # what to open, by label
    sent: SendReport | None = None
    writing: WriteReport | None = None  # how writing went, when the draft was made this run


def weekly_issue(
    action: str,
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    week: date,
    embedder: Embedder | None = None,
    say: Say = _quiet,
    fresh: bool = False,
) -> WeeklyReport:
    """What the weekly job does with its week, `action` being [schedule] action.

    "draft" writes the week's draft for the editor (a draft already there, perhaps edited, is
    kept unless `fresh`). "publish" publishes the week's draft, writing one first when there
    is none, then emails it to the subscribers not sent it yet.
    """
    if action not in ("draft", "publish"):
        raise ConfigError(f"unknown weekly action {action!r}; use 'draft' or 'publish'")
    if action == "publish":
        unsubscribe_secret()  # refuse before doing anything, not halfway through
    week_id = issue_id(week)
    if fresh or not draft_path(settings, week_id).exists():
        made = draft(settings, store, sources, week, embedder, say, fresh=fresh)
    else:
        say(f"keeping the draft {draft_path(settings, week_id)}")
        made = preview_draft(settings, store, week_id)
    if action == "draft":
        drafted = (("draft", made.markdown), ("preview", made.preview))
        return WeeklyReport(made.issue, action, drafted, writing=made.writing)
    done = publish_draft(settings, store, week_id, send=True, say=say, embedder=embedder)
    p = done.published
    files = (("site", p.index), ("issue", p.issue_page), ("feed", p.feed))
    return WeeklyReport(done.issue, action, files, done.sent, made.writing)
