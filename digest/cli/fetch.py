"""`digest crawl` and `digest sources check`: fetch the sources, and show how each is doing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from digest import pipeline
from digest.cli import show
from digest.cli.context import LOCK_WAIT, Command, Option, console, opened
from digest.models import Source
from digest.ops import Operations, jobs


def crawl_with_progress(
    ops: Operations, sources: Sequence[Source], policy: pipeline.FetchPolicy, force: bool = False
) -> pipeline.CrawlReport:
    show.expat_notice()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("crawling", total=len(sources))

        def done(result: pipeline.SourceResult) -> None:
            progress.update(task, advance=1, description=f"crawled {result.source.name}")

        report = jobs.crawl(ops, sources, policy, LOCK_WAIT, done, force=force)
    show.crawl_report(report)
    return report


def cmd_crawl(args: argparse.Namespace) -> int:
    with opened(args.config, sources=True) as ctx:
        ops = Operations(ctx.settings, ctx.store, say=show.notice)
        policy = pipeline.fetch_policy(ctx.settings)
        report = crawl_with_progress(ops, ctx.sources, policy, args.force)
    return 1 if report.outcomes and len(report.failed) == len(report.outcomes) else 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    with opened(args.config, sources=True) as ctx:
        health = ctx.store.source_health()
    settings, sources = ctx.settings, ctx.sources
    table = Table(title=f"Sources ({settings.sources})", title_justify="left")
    for column in ("source", "kind", "last success", "failures", "next fetch", "problem"):
        table.add_column(column, justify="right" if column == "failures" else "left")

    def when(t: datetime | None) -> str:
        return t.strftime("%Y-%m-%d %H:%M") if t else "never"

    for s in sources:
        h = health.get(s.name)
        if h is None:
            table.add_row(s.name, s.kind, "never", "0", "now", "[dim]not crawled yet[/dim]")
            continue
        error = f"[red]{escape(h.last_error)}[/red]" if h.last_error else ""
        if h.last_warning and not h.last_error:
            error = f"[yellow]salvaged: {escape(h.last_warning)}[/yellow]"
        table.add_row(
            s.name, s.kind, when(h.last_success), str(h.failures), when(h.next_attempt), error
        )
    console.print(table)
    failing = [s.name for s in sources if (h := health.get(s.name)) and h.failures]
    salvaged = [s.name for s in sources if (h := health.get(s.name)) and h.last_warning]
    console.print(
        f"{len(sources)} sources; "
        + (f"[red]{len(failing)} failing[/red]" if failing else "none failing")
        + (f"; [yellow]{len(salvaged)} read from faulty documents[/yellow]" if salvaged else "")
    )
    return 0


def add_crawl(command: Command, with_config: Option) -> None:
    p = command("crawl", "Fetch every due source in sources.yaml and store new articles.")
    with_config(p)
    p.add_argument(
        "--force", action="store_true", help="fetch every source now, ignoring interval and backoff"
    )
    p.set_defaults(run=cmd_crawl)


def add_sources(command: Command, with_config: Option) -> None:
    p = command("sources", "Inspect the sources in sources.yaml.")
    group = p.add_subparsers(dest="sources_command", required=True, metavar="ACTION", help="action")
    check = group.add_parser(
        "check",
        help="print every source's health",
        description="Print every source's health: last success, failures, next fetch, last error.",
    )
    with_config(check)
    check.set_defaults(run=cmd_sources_check)
