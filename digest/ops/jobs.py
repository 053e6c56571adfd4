"""The stage runs the scheduler and `digest run` make: recorded, locked, stoppable, never twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from digest import pipeline
from digest.errors import AnalyzeError
from digest.models import Source
from digest.ops import Operations
from digest.ops.source_health import failing_alerts, source_statuses
from digest.pipeline import Embedder, FetchPolicy, Run, SourceResult, WeekAnalysis, executor_for

_log = logging.getLogger("digest.jobs")

ISSUE_LOCK_WAIT = 30 * 60.0  # seconds the weekly job waits for a crawl in progress elsewhere
ISSUE_STAGES = ("draft", "publish")


def crawl(
    ops: Operations,
    sources: Sequence[Source],
    policy: FetchPolicy,
    wait: float = 0.0,
    on_source: Callable[[SourceResult], None] | None = None,
    force: bool = False,
) -> pipeline.CrawlReport:
    """Crawl the due sources in one go, each stored once every source before it is.

    A stop request withdraws the sources not started yet and ends the run once the started
    ones are stored (status interrupted): every stored source is complete, and the next crawl
    fetches the rest. Sources not due are reported, not fetched.
    """
    tried: set[str] = set()  # sources fetched this time (the others were not due)

    def done(result: SourceResult) -> None:
        tried.add(result.source.name)
        if on_source is not None:
            on_source(result)

    c = ops.settings.crawl
    ops.check_stop("crawling")
    with ops.lock(wait), ops.run("crawl") as notes:
        report = pipeline.crawl(
            sources,
            ops.store,
            policy,
            done,
            force=force,
            full_text_pages=c.full_text_pages,
            backoff_max=c.backoff_max,
            stopping=ops.stop.is_set,
            executor=executor_for(ops.settings.executor),
        )
        fetched = [o for o in report.outcomes if o.source in tried]
        _note_crawl(notes.counts, notes.errors, notes.sources, fetched)
        if report.withdrawn:
            ops.check_stop(f"crawling {len(report.withdrawn)} more due sources")
        if tried and all(o.error for o in fetched):
            notes.status = "failed"
            notes.alert = False  # each source is alerted once it has failed for a day
    alert_failing_sources(ops, [s.name for s in sources])
    return report


def _note_crawl(
    counts: dict[str, int],
    errors: dict[str, str],
    names: list[str],
    outcomes: Sequence[pipeline.SourceOutcome],
) -> None:
    counts.update(
        sources=len(outcomes),
        failed=sum(1 for o in outcomes if o.error),
        fetched=sum(o.fetched for o in outcomes),
        new=sum(o.new for o in outcomes),
    )
    errors.update({o.source: o.error for o in outcomes if o.error})
    names[:] = [o.source for o in outcomes]


def alert_failing_sources(ops: Operations, names: Sequence[str]) -> None:
    """Alert (once per failing spell) about sources that failed every crawl for a day."""
    if not ops.unattended:
        return
    now = ops.clock()
    statuses = source_statuses(ops.store, ops.ledger, names, now)
    for alert in failing_alerts(statuses, ops.settings.alerts.source_failing_hours, now):
        ops.alerter.send(alert)


def analyze(
    ops: Operations, sources: Sequence[Source], embedder: Embedder, monday: date
) -> WeekAnalysis | None:
    """Group the week's articles into stories and themes now, so the weekly build has less to do.

    Skipped (None) when the week has no articles yet or another process holds the lock.
    """
    if not ops.store.articles_between(monday, monday + timedelta(days=7)):
        return None
    weights = {s.name: s.weight for s in sources}
    with ops.lock(), ops.run("analyze", pipeline.issue_id(monday)) as notes:
        papers = pipeline.paper_sources(sources)
        analysis = pipeline.analyze(ops.store, embedder, monday, ops.settings, weights, papers)
        stories = [s for t in analysis.themes for s in t.stories] + list(analysis.unthemed)
        notes.counts.update(
            themes=len(analysis.themes),
            stories=len(stories),
            articles=sum(len(s.articles) for s in stories),
        )
    return analysis


@dataclass(frozen=True)
class IssueOutcome:
    """What the weekly job did for one week: made the issue, or found it made before."""

    issue_id: str
    report: pipeline.WeeklyReport | None
    made_before: Run | None


def issue_made(ops: Operations, issue_id: str, action: str) -> Run | None:
    """The run that already made this week's issue with `action` (or published it), if any.

    This is the store's record that decides "never twice"; APScheduler's memory is not used.
    """
    stages = (action, "publish") if action in ISSUE_STAGES else ISSUE_STAGES
    return ops.ledger.finished_run(issue_id, stages)


def make_issue(
    ops: Operations,
    sources: Sequence[Source],
    monday: date,
    embedder: Callable[[], Embedder],
    force: bool = False,
    say: pipeline.Say = pipeline.quiet,
) -> IssueOutcome:
    """Draft or publish (per [schedule] action) the issue of `monday`'s week, once.

    Checked before and again under the lock, so two schedulers racing make one issue.
    """
    action = ops.settings.schedule.action
    issue_id = pipeline.issue_id(monday)
    ops.check_stop(f"making issue {issue_id}")
    if not force and (before := issue_made(ops, issue_id, action)):
        return IssueOutcome(issue_id, None, before)
    with ops.lock(ISSUE_LOCK_WAIT):
        if not force and (before := issue_made(ops, issue_id, action)):
            return IssueOutcome(issue_id, None, before)
        with ops.run(action, issue_id) as notes:
            if not ops.store.articles_between(monday, monday + timedelta(days=7)):
                # Said before the embedding model is loaded, not after.
                raise AnalyzeError(
                    f"no articles published in week {issue_id}; check `digest status` for "
                    "failing sources, or make another week with `digest run --week`"
                )
            report = pipeline.weekly_issue(
                action, ops.settings, ops.store, sources, monday, embedder(), say, fresh=force
            )
            stories = [s for sec in report.issue.sections for s in sec.theme.stories]
            notes.counts.update(
                themes=len(report.issue.sections),
                quick_hits=len(report.issue.quick_hits),
                stories=len(stories),
                articles=sum(len(s.articles) for s in stories),
            )
            if report.sent is not None:
                notes.counts.update(report.sent.ledger)
    return IssueOutcome(issue_id, report, None)
