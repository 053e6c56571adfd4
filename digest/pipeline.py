"""The one place that runs the stages in order: crawl, analyze, write, publish."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from digest import clock
from digest.analyze import WeekAnalysis, make_story, plan_issue
from digest.analyze.embed import Embedder, embed_articles
from digest.analyze.stories import group_stories
from digest.analyze.topics import TopicNamer, load_topics
from digest.analyze.trends import PastTheme, mark_trends
from digest.check import CheckReport, check_issue, cited_ids
from digest.config import Settings, smtp_password
from digest.crawl.http import FetchPolicy
from digest.crawl_stage import STOPPED as STOPPED
from digest.crawl_stage import CrawlReport as CrawlReport
from digest.crawl_stage import SourceOutcome as SourceOutcome
from digest.crawl_stage import crawl as crawl
from digest.errors import AnalyzeError, ConfigError, PublishError
from digest.executors import executor_for
from digest.models import Delivery, Issue, Source, Story
from digest.publish import PublishResult, PublishSettings, build_site, prepare, publish
from digest.publish.draft import apply_markdown, to_markdown
from digest.publish.email import Unsubscribe, unsubscribe_mailto
from digest.publish.send import SendResult, SmtpSettings, send_edition
from digest.publish.tokens import make_token, token_matches, token_subscriber, unsubscribe_secret
from digest.store import Store
from digest.store.mailing import Mailing
from digest.write import Writer
from digest.write.backends import Connection, open_backend
from digest.write.calls import Caller, CallPolicy, NoCache, ResponseCache, Usage
from digest.write.compose import WriteReport, write_issue
from digest.write.extractive import ExtractiveWriter
from digest.write.grounding import Grounder
from digest.write.llm import LLMWriter
from digest.write.prompts import Prompts
from digest.write.vectors import SentenceVectors

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class BuildReport:
    issue: Issue
    published: PublishResult
    articles: int
    stories: int
    writing: WriteReport | None = None


def fetch_policy(settings: Settings, extra_hosts: Sequence[str] = ()) -> FetchPolicy:
    c = settings.crawl
    return FetchPolicy(
        connect_timeout=c.connect_timeout,
        read_timeout=c.read_timeout,
        deadline=c.deadline,
        max_bytes=c.max_bytes,
        concurrency=c.concurrency,
        allowed_hosts=frozenset((*c.allowed_hosts, *extra_hosts)),
        per_host=c.per_host,
        host_delay=c.host_delay,
        max_redirects=c.max_redirects,
        retry_wait=c.retry_wait,
        max_retry_after=c.max_retry_after,
    )


def parse_week(text: str) -> date:
    """The Monday of an ISO week written like 2026-W47."""
    match = re.fullmatch(r"(\d{4})-?[Ww](\d{1,2})", text.strip())
    if not match:
        raise ConfigError(f"week {text!r} is not an ISO week; write it like 2026-W47")
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise ConfigError(f"week {text!r} does not exist ({exc})") from exc


def issue_id(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-w{week:02d}"


def latest_week(store: Store) -> date:
    """The Monday of the week holding the newest stored article."""
    newest = store.newest_published()
    if newest is None:
        raise AnalyzeError("the store holds no articles yet; run `digest crawl` first")
    day = newest.date()
    return day - timedelta(days=day.weekday())


def _week_stories(
    store: Store, embedder: Embedder, monday: date, settings: Settings, this_issue: str
) -> tuple[list[Story], np.ndarray]:
    """Assign the week's new articles to stories (stable ids) and return the week's stories."""
    end = monday + timedelta(days=7)
    articles = store.articles_between(monday, end)
    if not articles:
        raise AnalyzeError(
            f"no articles published in week {issue_id(monday)}; crawl first or pick another --week"
        )
    vectors = embed_articles(articles, embedder, store)
    index = {a.id: i for i, a in enumerate(articles)}
    assigned = store.story_of(list(index))
    window = timedelta(days=settings.analyze.story_window_days)
    members = store.story_members(datetime.combine(monday, time(), UTC) - window)
    member_articles = {
        a.id: a for a in store.articles_by_id([i for m in members.values() for i in m])
    }
    known = []
    for story_id, ids in members.items():
        arts = [member_articles[i] for i in ids]
        known.append((story_id, arts, embed_articles(arts, embedder, store)))
    fresh = [a for a in articles if a.id not in assigned]
    grouping = group_stories(
        fresh,
        vectors[[index[a.id] for a in fresh]] if fresh else vectors[:0],
        known,
        settings.analyze.story_threshold,
        window,
    )
    store.assign_stories(
        grouping.assignments, {s: a.published_at for s, a in grouping.started.items()}
    )
    assigned.update(grouping.assignments)
    by_story: dict[str, list[int]] = {}
    for article in articles:
        by_story.setdefault(assigned[article.id], []).append(index[article.id])
    published = store.published_in(list(by_story))
    stories, centroids = [], []
    for story_id, rows in sorted(by_story.items()):
        is_update = published.get(story_id, this_issue) != this_issue
        story, centroid = make_story(
            story_id, [articles[r] for r in rows], vectors[rows], is_update
        )
        stories.append(story)
        centroids.append(centroid)
    return stories, np.vstack(centroids)


def _published_before(
    store: Store, embedder: Embedder, monday: date, settings: Settings
) -> tuple[list[Story], np.ndarray | None]:
    """Stories an earlier issue published that have articles within the story window before
    the week, as they stood then, with their unit centroids."""
    start = datetime.combine(monday, time(), UTC)
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
    )
    last_week = [
        PastTheme(i, n, c, v) for i, n, c, v in store.week_themes(issue_id(monday - timedelta(7)))
    ]
    themes = mark_trends(analysis.themes, analysis.centroids, last_week)
    store.save_week_themes(
        issue_id(monday),
        [(t.id, t.name, len(t.stories), analysis.centroids[t.id]) for t in themes],
    )
    return replace(analysis, themes=themes)


def paper_sources(sources: Sequence[Source]) -> frozenset[str]:
    """Sources whose every item is a paper: tagged 'papers' (or 'paper') in sources.yaml."""
    return frozenset(s.name for s in sources if {"paper", "papers"} & set(s.tags))


def general(sources: Sequence[Source]) -> frozenset[str]:
    """Sources configured `general: true`: their items need not be about AI to make the issue."""
    return frozenset(s.name for s in sources if s.general)


def make_writer(
    settings: Settings, fallback: ExtractiveWriter, cache: ResponseCache
) -> tuple[Writer, Usage | None]:
    """The writer named in [writer] backend, and the usage its calls add up to (LLMs only)."""
    w = settings.writer
    if w.backend == "extractive":
        return fallback, None
    backend = open_backend(Connection(w.backend, w.model, w.base_url, w.api_key_env, w.timeout))
    policy = CallPolicy(
        w.max_tokens,
        w.temperature,
        w.retries,
        w.backoff,
        w.breaker_after,
        w.budget_tokens,
        w.budget_cost,
        w.price_input,
        w.price_output,
    )
    caller = Caller(backend, cache, policy)
    return LLMWriter(caller, Prompts(w.prompts), fallback, w.stories_per_theme), caller.usage


def write(
    analysis: WeekAnalysis,
    embedder: Embedder,
    monday: date,
    settings: Settings,
    cache: ResponseCache | None = None,
) -> Issue:
    """Write the issue with the configured writer (see write_reported)."""
    return write_reported(analysis, embedder, monday, settings, cache)[0]


def write_reported(
    analysis: WeekAnalysis,
    embedder: Embedder,
    monday: date,
    settings: Settings,
    cache: ResponseCache | None = None,
) -> tuple[Issue, WriteReport]:
    """The issue written by the configured writer, every part grounded, and how it went."""
    vectors = SentenceVectors(embedder.embed)  # shared: grounding reuses the writer's vectors
    fallback = ExtractiveWriter(vectors, settings.writer.stories_per_theme)
    writer, usage = make_writer(settings, fallback, cache or NoCache())
    report = WriteReport(settings.writer.backend, usage=usage)
    papers = analysis.papers
    quick = [s for s in analysis.unthemed if s not in papers]
    grounder = Grounder(vectors, settings.writer.support_threshold)
    written = write_issue(
        writer,
        fallback,
        grounder,
        analysis.themes,
        quick,
        papers,
        report,
        settings.analyze.quick_hits,
        settings.writer.research,
    )
    if isinstance(writer, LLMWriter):
        report.fallbacks[:0] = writer.fallbacks
    week = monday.isocalendar()[1]
    sections = written.sections
    lead = sections[0].summary.headline if sections else "a quiet week"
    issue = Issue(
        id=issue_id(monday),
        title=f"Week {week}: {lead}",
        week_start=monday,
        week_end=monday + timedelta(days=6),
        built_at=clock.now().replace(microsecond=0),
        intro=written.intro,
        sections=sections,
        quick_hits=written.quick_hits,
        research=written.research,
        watch=written.watch,
    )
    return issue, report


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
    previous = store.issue(issue.id) or Mailing(store.engine).draft(issue.id)
    if (
        previous is not None
        and replace(previous, built_at=issue.built_at, published_at=None) == issue
    ):
        issue = previous
    stories = len(analysis.unthemed) + sum(len(t.stories) for t in analysis.themes)
    count = sum(len(s.articles) for t in analysis.themes for s in t.stories)
    count += sum(len(s.articles) for s in analysis.unthemed)
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
    result = publish(issue, store.issues(), publish_settings(settings))
    return BuildReport(issue, result, made.articles, made.stories, made.writing)


def publish_settings(settings: Settings) -> PublishSettings:
    s = settings.site
    return PublishSettings(
        site_dir=s.dir,
        email_dir=settings.email.dir,
        base_url=s.base_url,
        site_title=s.title,
        template_dir=s.templates,
        email_from=settings.email.sender,
        email_to=settings.email.to,
        unsubscribe_mailto=settings.email.unsubscribe_mailto,
    )


@dataclass(frozen=True)
class DraftReport:
    """A draft awaiting review: the Markdown to edit and the preview site of the draft."""

    issue: Issue
    markdown: Path
    preview: Path
    check: CheckReport | None = None  # the editorial check of the draft as written
    writing: WriteReport | None = None  # how writing went, when the draft was just made


@dataclass(frozen=True)
class SendReport:
    """One `send`: what happened, the ledger's totals, and messages of a dead run left alone."""

    issue_id: str
    result: SendResult
    ledger: dict[str, int]
    interrupted: tuple[str, ...]


@dataclass(frozen=True)
class PublishReport:
    issue: Issue
    published: PublishResult
    sent: SendReport | None


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
    published issue); the newest draft when no week is given."""
    mailing = Mailing(store.engine)
    if mailing.draft(issue) is not None:
        edited, _ = _edited_draft(settings, store, issue)
    elif issue is not None and (published := store.issue(issue)) is not None:
        edited = published
    else:
        raise PublishError(
            f"no draft {issue or ''} in the store to check; run `digest draft` first"
        )
    return check(settings, store, edited, embedder)


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
) -> PublishReport:
    """Publish the edited draft: the site and feeds first, then the email to subscribers.

    A draft that breaks an editorial rule (see `check`) is refused unless `force` is set.
    """
    if send:
        unsubscribe_secret()  # refuse before publishing anything, not halfway through
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
    result = publish(edited, store.issues(), publish_settings(settings))
    sent = send_issue(settings, store, edited.id, say=say) if send else None
    return PublishReport(edited, result, sent)


def send_issue(
    settings: Settings,
    store: Store,
    issue: str | None = None,
    resend_interrupted: bool = False,
    say: Say = _quiet,
) -> SendReport:
    """Email a published issue to every subscriber not sent it yet; safe to run again."""
    secret = unsubscribe_secret()
    published = store.issue(issue) if issue else next(iter(store.issues()), None)
    if published is None:
        raise PublishError(
            f"no published issue {issue or ''} to send; publish it first with `digest publish`"
        )
    mailing = Mailing(store.engine)
    if resend_interrupted:
        mailing.requeue_interrupted(published.id)
    interrupted = tuple(mailing.interrupted(published.id))
    site = publish_settings(settings)
    mailto = unsubscribe_mailto(site.unsubscribe_mailto, site.email_from)

    def unsubscribe_for(d: Delivery) -> Unsubscribe:
        token = make_token(secret, d.subscriber_id, d.address)
        return Unsubscribe(f"{site.unsubscribe_url}?token={token}", mailto, token)

    result = send_edition(
        prepare(published, site),
        mailing,
        smtp_settings(settings),
        settings.email.sender,
        unsubscribe_for,
        say,
    )
    return SendReport(published.id, result, mailing.counts(published.id), interrupted)


def smtp_settings(settings: Settings) -> SmtpSettings:
    e = settings.email
    return SmtpSettings(
        host=e.smtp_host,
        port=e.smtp_port,
        security=e.smtp_security,
        user=e.smtp_user,
        password=smtp_password(),
        cafile=e.smtp_cafile,
        timeout=e.smtp_timeout,
        rate_per_minute=e.rate_per_minute,
        retry_delay=e.retry_delay,
        max_attempts=e.max_attempts,
    )


def unsubscriber(store: Store) -> Callable[[str, bool], bool]:
    """What `digest serve` calls with a token: is it valid, and (apply) unsubscribe them."""
    secret = unsubscribe_secret()
    mailing = Mailing(store.engine)

    def check(token: str, apply: bool) -> bool:
        subscriber_id = token_subscriber(token)
        found = mailing.subscriber(subscriber_id) if subscriber_id is not None else None
        if found is None or not token_matches(secret, token, found.id, found.address):
            return False
        if apply:
            mailing.unsubscribe(found.id)
        return True

    return check


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
    folder = settings.site.drafts / issue.id / "site"
    archive = [i for i in store.issues() if i.id != issue.id]
    return build_site(issue, archive, replace(publish_settings(settings), site_dir=folder))


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
