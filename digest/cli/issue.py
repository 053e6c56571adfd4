"""`digest build` and `digest run`: make a week's issue now, or as cron does, once a week."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from digest import pipeline
from digest.cli import show
from digest.cli.context import LOCK_WAIT, Command, Option, console, opened
from digest.cli.fetch import crawl_with_progress
from digest.models import Source
from digest.ops import Operations, StopFlag, Stopped, jobs, stop_on_signals
from digest.ops.periods import week_of


def build_issue(ops: Operations, sources: Sequence[Source], week: str | None) -> None:
    monday = pipeline.parse_week(week) if week else pipeline.latest_week(ops.store)
    with (
        console.status("building the issue") as status,
        ops.lock(LOCK_WAIT),
        ops.run("build", pipeline.issue_id(monday)) as notes,
    ):
        report = pipeline.build(ops.settings, ops.store, sources, monday, say=status.update)
        notes.counts.update(themes=len(report.issue.sections), articles=report.articles)
    show.issue(report)


def cmd_build(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        build_issue(
            Operations(ctx.settings, ctx.store),
            pipeline.load_sources(ctx.settings.sources),
            args.week,
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    stop = StopFlag()
    with opened(args.config, sources=True, logs=True) as ctx:
        settings = ctx.settings
        stop_on_signals(stop, lambda text: console.print(f"[yellow]{text}[/yellow]"))
        ops = Operations(settings, ctx.store, stop=stop, unattended=True, say=show.notice)
        try:
            monday = (
                pipeline.parse_week(args.week)
                if args.week
                else week_of(ops.clock(), settings.schedule)
            )
            crawl_with_progress(ops, ctx.sources, pipeline.fetch_policy(settings))
            ops.check_stop(f"making issue {pipeline.issue_id(monday)}")
            with console.status(f"making issue {pipeline.issue_id(monday)}") as status:
                outcome = jobs.make_issue(
                    ops,
                    ctx.sources,
                    monday,
                    lambda: pipeline.load_embedder(settings),
                    args.force,
                    say=status.update,
                )
        except Stopped as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            return 130
    if (report := outcome.report) is not None:
        made = report.issue
        console.print(
            f"Issue [bold]{made.id}[/bold] ({'published' if report.sent else report.action}): "
            f"{len(made.sections)} themes, {len(made.quick_hits)} quick hits"
        )
        for label, path in report.files:
            console.print(f"{label + ':':9}{path}")
        if report.writing is not None:
            show.writing(report.writing)
        if report.sent is not None:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(report.sent.ledger.items()))
            console.print(f"email:   {counts or 'no subscribers yet'}")
    elif made_before := outcome.made_before:
        console.print(
            f"Issue [bold]{outcome.issue_id}[/bold] was already made ({made_before.stage}, "
            f"{made_before.ended_at or made_before.started_at:%Y-%m-%d %H:%M} UTC); "
            "nothing to do. Pass --force to make it again."
        )
    return 0


def add_build(command: Command, with_config: Option, with_week: Option) -> None:
    p = command("build", "Analyze, write and publish one week's issue from stored articles.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_build)


def add_run(command: Command, with_config: Option) -> None:
    p = command(
        "run",
        "Crawl, then draft or publish this week's issue once ([schedule] action): what cron calls.",
    )
    with_config(p)
    p.add_argument(
        "--week", help="ISO week to make, like 2026-W47 (default: this week, per [schedule])"
    )
    p.add_argument(
        "--force", action="store_true", help="make the issue again even if it was made already"
    )
    p.set_defaults(run=cmd_run)
