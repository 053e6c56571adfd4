"""Who reported each story of an issue, its threads, and (if asked) what their commenters said."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from digest.analyze import WeekAnalysis
from digest.config import Settings
from digest.crawl.comments import HN_API, REDDIT_API, CommentLimits, ThreadAsk, fetch_comments
from digest.families import Outlet, forum_place, reporting, source_outlet
from digest.models import Issue, Note, Remark, Section, Source, Story, Thread
from digest.pipeline.wiring import Say, fetch_policy, quiet
from digest.store import Store
from digest.write import grounded, what_people_said


def declared_outlets(sources: Sequence[Source]) -> dict[str, Outlet]:
    """Each source's type and family: sources.yaml's, else the defaults for its kind and URL."""
    return {s.name: source_outlet(s.name, s.kind, s.url, s.type, s.family) for s in sources}


def with_reporting(
    issue: Issue,
    analysis: WeekAnalysis,
    store: Store,
    sources: Sequence[Source],
    settings: Settings,
    say: Say = quiet,
) -> Issue:
    """The issue with every story (and every quick hit and paper) saying who reported it and
    linking its threads; with [discussions] comments on, what the busiest threads said."""
    owner = {
        a.id: s
        for s in (
            *analysis.unthemed,
            *analysis.papers,
            *(s for t in analysis.themes for s in t.stories),
        )
        for a in s.articles
    }
    stories = [s for section in issue.sections for s in section.theme.stories]
    for note in (*issue.quick_hits, *issue.research):
        stories.extend(owner[c.article_id] for c in note.citations[:1] if c.article_id in owner)
    seen = store.discussions_about(a.id for s in stories for a in s.articles)
    declared = declared_outlets(sources)
    via: dict[str, str] = {}  # thread URL -> the source that saw it
    told: dict[str, Story] = {}
    for story in stories:
        threads = []
        for a in story.articles:
            for source, url, score, comments in seen.get(a.id, ()):
                via.setdefault(url, source)
                threads.append(Thread(forum_place(url) or source, url, score, comments))
            # A thread the store has no row for is the article's own source's.
            via.setdefault(a.discussion_url or a.href, a.source)
        reported = reporting(story.articles, threads, declared)
        told[story.id] = replace(story, reporting=reported)
    if settings.discussions.comments:
        told = _with_remarks(told, via, sources, settings, say)
    return replace(
        issue,
        sections=tuple(_section(s, told) for s in issue.sections),
        quick_hits=tuple(_note(n, owner, told) for n in issue.quick_hits),
        research=tuple(_note(n, owner, told) for n in issue.research),
    )


def _section(section: Section, told: Mapping[str, Story]) -> Section:
    stories = tuple(told.get(s.id, s) for s in section.theme.stories)
    return replace(section, theme=replace(section.theme, stories=stories))


def _note(note: Note, owner: Mapping[str, Story], told: Mapping[str, Story]) -> Note:
    story = next((owner[c.article_id] for c in note.citations[:1] if c.article_id in owner), None)
    found = told.get(story.id) if story is not None else None
    return replace(note, reporting=found.reporting) if found is not None else note


def _api(thread: str, source: Source | None) -> str:
    """Where the thread's comments are asked for: the API of the source that saw it (a
    hackernews or reddit source, perhaps a replay), else the forum's public API."""
    if source is not None and source.kind in ("hackernews", "reddit"):
        return source.url
    return HN_API if "ycombinator.com" in thread else REDDIT_API


def _with_remarks(
    told: dict[str, Story],
    via: Mapping[str, str],
    sources: Sequence[Source],
    settings: Settings,
    say: Callable[[str], None],
) -> dict[str, Story]:
    """Stories with "What people said" from the top comments of the busiest threads."""
    d = settings.discussions
    by_name = {s.name: s for s in sources}
    threads = {t.url: t for s in told.values() if s.reporting for t in s.reporting.threads}
    busiest = sorted(threads.values(), key=lambda t: (-t.score, t.url))
    asks = [
        ThreadAsk(t.url, t.place, _api(t.url, by_name.get(via.get(t.url, ""))))
        for t in busiest
        if forum_place(t.url) not in ("", "Lobsters")
    ][: d.threads]
    if not asks:
        return told
    say(f"reading the top comments of {len(asks)} threads")
    limits = CommentLimits(d.per_thread, d.max_bytes)
    read = fetch_comments(asks, fetch_policy(settings), limits)
    failed = [r for r in read if r.error]
    if failed:
        say(f"{len(failed)} threads' comments could not be read, the first: {failed[0].error}")
    comments: dict[str, tuple[Remark, ...]] = {r.ask.url: r.comments for r in read}
    for key, story in told.items():
        if story.reporting is None:
            continue
        heard = [comments[t.url] for t in story.reporting.threads if t.url in comments]
        said = tuple(r for r in what_people_said(heard) if grounded(r, heard))
        if said:
            told[key] = replace(story, reporting=replace(story.reporting, said=said))
    return told
