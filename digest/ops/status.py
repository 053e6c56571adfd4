"""`digest status`: last runs, next fire times, source health and the last issue, at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.engine import make_url

from digest.config import Settings
from digest.models import Issue
from digest.ops import LOCK, holder_is_gone
from digest.ops.jobs import ISSUE_STAGES
from digest.ops.periods import due_week
from digest.ops.scheduler import next_runs
from digest.ops.source_health import SourceStatus, source_statuses
from digest.pipeline import LockHolder, Run, RunLog, Store, draft_path, issue_id

OVERDUE = timedelta(minutes=5)


@dataclass(frozen=True)
class Status:
    now: datetime
    zone: ZoneInfo
    store: str
    issue: Issue | None
    issue_run: Run | None
    runs: list[Run]
    jobs: list[tuple[str, datetime | None]]
    sources: list[SourceStatus]
    running: LockHolder | None
    alerts_to: tuple[str, ...]
    problems: list[str]  # something is wrong now
    notes: list[str]  # worth fixing, nothing broken
    issue_page: Path | None
    draft: tuple[str, Path] | None  # a week's draft waiting for review, and its file


def gather(settings: Settings, store: Store, names: Sequence[str], now: datetime) -> Status:
    ledger = RunLog(store)
    zone = ZoneInfo(settings.schedule.timezone)
    issues = store.issues()
    issue = issues[0] if issues else None
    runs = [_dead_as_interrupted(r) for r in ledger.runs(12)]
    jobs = next_runs(settings, store, now)
    health = source_statuses(store, ledger, names, now)
    a = settings.alerts
    alerts_to = tuple(f"{k} {v}" for k, v in (("webhook", a.webhook), ("email", a.email)) if v)
    problems = []
    latest: dict[str, Run] = {}
    for run in runs:
        latest.setdefault(run.stage, run)
    for run in latest.values():
        if run.stage == "crawl" and "run" not in run.errors:
            continue  # failing sources are listed one by one below
        if run.status in ("failed", "interrupted"):
            why = run.errors.get("run") or "; ".join(run.errors.values())
            problems.append(f"the last {run.stage} run {run.status}: {why}")
    holder = ledger.lock_holder(LOCK, now)
    if holder is not None and holder_is_gone(holder.owner):
        problems.append(
            f"the store's lock is held by {holder.owner}, a process that no longer exists "
            "(killed?); the next run takes the lock over"
        )
        holder = None
    for h in health:
        if h.failing_since is not None:
            problems.append(f"source {h.source!r} failing since {_when(h.failing_since, zone)}")
    stored = [j for j in jobs if not j[0].endswith("(not scheduled yet)")]
    if stored and all(t is None or t < now - OVERDUE for _, t in stored):
        problems.append("scheduled jobs are overdue: is `digest schedule` running?")
    week = due_week(settings.schedule, now)
    if stored and week is not None:
        due = issue_id(week)
        if ledger.finished_run(due, ISSUE_STAGES) is None:
            problems.append(f"issue {due} is due and not made yet")
    notes = [
        f"source {h.source!r} was read from a faulty document: {h.warning}"
        for h in health
        if h.warning and not h.failing_since
    ]
    if not alerts_to:
        notes.append("no alert channel: set [alerts] webhook or email in digest.toml")
    page = settings.site.dir / "issues" / issue.id / "index.html" if issue else None
    drafted = ledger.runs(1, stage="draft")
    waiting = drafted[0].period if drafted and drafted[0].status == "ok" else None
    draft = None
    if waiting and store.issue(waiting) is None:
        draft = (waiting, draft_path(settings, waiting))
    return Status(
        now=now,
        zone=zone,
        store=make_url(settings.store.url).render_as_string(hide_password=True),
        issue=issue,
        issue_run=ledger.finished_run(issue.id, ISSUE_STAGES) if issue else None,
        runs=runs,
        jobs=jobs,
        sources=health,
        running=holder,
        alerts_to=alerts_to,
        problems=problems,
        notes=notes,
        issue_page=page if page and page.is_file() else None,
        draft=draft,
    )


def _dead_as_interrupted(run: Run) -> Run:
    """A run still marked running whose process has ended shows as what it is: interrupted."""
    if run.status != "running" or not holder_is_gone(run.owner):
        return run
    why = f"process {run.owner} ended without finishing (killed?)"
    return replace(run, status="interrupted", errors={**run.errors, "run": why})


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M") if moment else "never"


def _relative(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    amount = (
        f"{size / 86400:.0f} d"
        if size >= 86400
        else f"{size / 3600:.0f} h"
        if size >= 3600
        else f"{size / 60:.0f} min"
    )
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


_STATUS_STYLE = {"ok": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def render(status: Status, console: Console) -> None:
    now, zone = status.now, status.zone
    lines = [f"[red]•[/red] {escape(p)}" for p in status.problems]
    lines += [f"[yellow]•[/yellow] {escape(n)}" for n in status.notes]
    if status.problems:
        title = "[red]needs attention[/red]"
    else:
        lines.insert(0, "[green]all good[/green]")
        title = "digest"
    console.print(Panel("\n".join(lines), title=title, title_align="left"))
    facts = Table.grid(padding=(0, 2))
    facts.add_row("store", status.store)
    facts.add_row("time", f"{_when(now, zone)} ({zone.key})")
    if status.running:
        facts.add_row(
            "running now",
            f"{status.running.owner} (lock until {_when(status.running.expires_at, zone)})",
        )
    facts.add_row("alerts to", ", ".join(status.alerts_to) or "[yellow]nobody[/yellow]")
    if status.issue:
        i, made = status.issue, status.issue_run
        how = f"{made.stage} {_when(made.ended_at, zone)}" if made else "built by hand"
        facts.add_row("last issue", f"[bold]{i.id}[/bold] {i.title}")
        facts.add_row("", f"{len(i.sections)} themes, {len(i.quick_hits)} quick hits; {how}")
        if status.issue_page:
            facts.add_row("", str(status.issue_page))
    else:
        facts.add_row("last issue", "[yellow]none yet[/yellow]")
    if status.draft:
        week, path = status.draft
        facts.add_row("draft", f"[bold]{week}[/bold] waits for review: edit {path}")
        facts.add_row("", "then `digest publish` puts it on the site and emails it")
    console.print(facts)

    jobs = Table(title="Next runs", title_justify="left")
    for column in ("job", "next run", ""):
        jobs.add_column(column)
    for job_id, when in status.jobs:
        late = when is not None and when < now - OVERDUE
        rel = _relative(when, now)
        jobs.add_row(job_id, _when(when, zone), f"[red]{rel}[/red]" if late else rel)
    console.print(jobs)

    runs = Table(title="Last runs", title_justify="left")
    for column in ("stage", "week", "started", "took", "status", "counts", "problem"):
        runs.add_column(column, overflow="fold")
    for r in status.runs:
        took = f"{(r.ended_at - r.started_at).total_seconds():.0f} s" if r.ended_at else ""
        style = _STATUS_STYLE.get(r.status, "white")
        counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
        problem = "; ".join(f"{k}: {v}" for k, v in r.errors.items())
        runs.add_row(
            escape(r.stage),
            r.period or "",
            _when(r.started_at, zone),
            took,
            f"[{style}]{r.status}[/{style}]",
            counts,
            escape(problem[:160]),
        )
    if not status.runs:
        runs.add_row("", "", "no runs yet", "", "", "", "")
    console.print(runs)

    sources = Table(title="Sources", title_justify="left")
    for column in ("source", "last ok", "new (14 d)", "next fetch", "problem"):
        sources.add_column(column, overflow="fold")
    for h in status.sources:
        problem = (
            f"[red]failing since {_when(h.failing_since, zone)}: {escape(h.last_error or '')}[/red]"
            if h.failing_since
            else f"[yellow]salvaged: {escape(h.warning)}[/yellow]"
            if h.warning
            else ""
        )
        nxt = _when(h.next_attempt, zone) if h.next_attempt and h.next_attempt > now else "now"
        sources.add_row(h.source, _when(h.last_ok, zone), str(h.new_articles), nxt, problem)
    console.print(sources)
