"""The one place that runs the stages in order: crawl, analyze, write, publish."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from digest.analyze import WeekAnalysis, build_themes, make_story
from digest.analyze.embed import Embedder, SentenceTransformerEmbedder, embed_articles
from digest.analyze.stories import group_stories
from digest.config import Settings
from digest.crawl import SourceResult, crawl_sync
from digest.crawl.http import FetchPolicy
from digest.errors import AnalyzeError, ConfigError
from digest.models import Issue, Source, Story
from digest.publish import PublishResult, PublishSettings, publish
from digest.store import Store
from digest.write import Writer
from digest.write.backends import Connection, open_backend
from digest.write.calls import Caller, CallPolicy, NoCache, ResponseCache, Usage
from digest.write.compose import WriteReport, write_issue
from digest.write.extractive import ExtractiveWriter
from digest.write.grounding import Grounder
from digest.write.llm import LLMWriter
from digest.write.prompts import Prompts

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class SourceOutcome:
    """What one source gave this crawl: new articles, or the reason it gave none."""

    source: str
    fetched: int
    new: int
    error: str | None


@dataclass(frozen=True)
class CrawlReport:
    outcomes: tuple[SourceOutcome, ...]

    @property
    def new_articles(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def failed(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if o.error)


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
    )


def crawl(
    sources: Sequence[Source],
    store: Store,
    policy: FetchPolicy,
    on_source: Callable[[SourceResult], None] | None = None,
) -> CrawlReport:
    """Fetch every source and keep what is new; a failing source is reported, never fatal."""
    results = crawl_sync(sources, policy, on_source)
    fetched_at = datetime.now(UTC)
    outcomes = [
        SourceOutcome(
            r.source.name, len(r.articles), store.add_articles(r.articles, fetched_at), r.error
        )
        for r in results
    ]
    return CrawlReport(tuple(outcomes))


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


def analyze(
    store: Store, embedder: Embedder, monday: date, settings: Settings, weights: dict[str, float]
) -> WeekAnalysis:
    stories, centroids = _week_stories(store, embedder, monday, settings, issue_id(monday))
    week_end = datetime.combine(monday + timedelta(days=7), time(), UTC)
    a = settings.analyze
    return build_themes(stories, centroids, weights, week_end, a.min_theme_size, a.max_themes)


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
    fallback = ExtractiveWriter(embedder.embed, settings.writer.stories_per_theme)
    writer, usage = make_writer(settings, fallback, cache or NoCache())
    report = WriteReport(settings.writer.backend, usage=usage)
    papers = analysis.papers[: settings.writer.research]
    quick = [s for s in analysis.unthemed if s not in papers][: settings.analyze.quick_hits]
    grounder = Grounder(embedder.embed, settings.writer.support_threshold)
    written = write_issue(writer, fallback, grounder, analysis.themes, quick, papers, report)
    if isinstance(writer, LLMWriter):
        report.fallbacks[:0] = writer.fallbacks
    year, week, _ = monday.isocalendar()
    sections = written.sections
    lead = sections[0].summary.headline if sections else "a quiet week"
    issue = Issue(
        id=issue_id(monday),
        title=f"{settings.site.title} — week {week}, {year}: {lead}",
        week_start=monday,
        week_end=monday + timedelta(days=6),
        built_at=datetime.now(UTC).replace(microsecond=0),
        intro=written.intro,
        sections=sections,
        quick_hits=written.quick_hits,
        research=written.research,
        watch=written.watch,
    )
    return issue, report


def load_embedder(settings: Settings) -> Embedder:
    e = settings.embed
    return SentenceTransformerEmbedder(e.model, e.device, e.batch_size)


def build(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    week: date | None = None,
    embedder: Embedder | None = None,
    say: Say = _quiet,
) -> BuildReport:
    """Analyze, write and publish one week's issue (the week of the newest article by default)."""
    monday = week or latest_week(store)
    say(f"loading the embedding model {settings.embed.model}")
    embedder = embedder or load_embedder(settings)
    say(f"grouping week {issue_id(monday)} into stories and themes")
    weights = {s.name: s.weight for s in sources}
    analysis = analyze(store, embedder, monday, settings, weights)
    say(f"writing {len(analysis.themes)} themes")
    issue, writing = write_reported(analysis, embedder, monday, settings, store)
    previous = store.issue(issue.id)
    if previous is not None and replace(previous, built_at=issue.built_at) == issue:
        issue = previous
    store.save_issue(issue)
    say("publishing site, feed and email")
    result = publish(issue, store.issues(), publish_settings(settings))
    stories = len(analysis.unthemed) + sum(len(t.stories) for t in analysis.themes)
    count = sum(len(s.articles) for t in analysis.themes for s in t.stories)
    count += sum(len(s.articles) for s in analysis.unthemed)
    return BuildReport(issue, result, count, stories, writing)


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
    )
