"""The `digest` command: parse arguments, call the pipeline, print what happened."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url

from digest import cli_publish, demo, jobs, pipeline, scheduler, status
from digest.config import EmbedSettings, load_settings, load_sources
from digest.crawl import SourceResult
from digest.crawl.expat import slow_expat_notice
from digest.crawl.http import FetchPolicy
from digest.errors import ConfigError, DigestError
from digest.logs import configure_logging
from digest.models import Source
from digest.ops import Operations, StopFlag, Stopped, stop_on_signals, utcnow
from digest.periods import week_of
from digest.store import Store, StoreMissingError

console = Console(highlight=False)
LOCK_WAIT = 600.0  # seconds a command waits for another process's run to finish


def _crawl(
    ops: Operations, sources: Sequence[Source], policy: FetchPolicy, force: bool = False
) -> pipeline.CrawlReport:
    _expat_notice()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("crawling", total=len(sources))

        def done(result: SourceResult) -> None:
            progress.update(task, advance=1, description=f"crawled {result.source.name}")

        report = jobs.crawl(ops, sources, policy, LOCK_WAIT, done, force=force)
    table = Table(title="Crawl", title_justify="left")
    for column in ("source", "items", "new", "problem"):
        table.add_column(column, justify="right" if column in ("items", "new") else "left")
    for o in report.outcomes:
        problem = f"[red]{escape(o.error)}[/red]" if o.error else f"[dim]{escape(o.note)}[/dim]"
        if o.warning:
            problem = f"[yellow]salvaged: {escape(o.warning)}[/yellow]"
        table.add_row(o.source, str(o.fetched), str(o.new), problem)
    console.print(table)
    ok = len(report.outcomes) - len(report.failed)
    console.print(
        f"{report.new_articles} new articles from {ok} of {len(report.outcomes)} sources"
        + (f"; [red]{len(report.failed)} failed and were skipped[/red]" if report.failed else "")
    )
    return report


def _notice(text: str) -> None:
    console.print(f"[yellow]{escape(text)}[/yellow]")


def _expat_notice() -> None:
    if notice := slow_expat_notice():
        console.print(f"[yellow]note:[/yellow] {notice}")


def _build(ops: Operations, sources: Sequence[Source], week: str | None) -> pipeline.BuildReport:
    monday = pipeline.parse_week(week) if week else pipeline.latest_week(ops.store)
    with (
        console.status("building the issue") as status,
        ops.lock(LOCK_WAIT),
        ops.run("build", pipeline.issue_id(monday)) as notes,
    ):
        report = pipeline.build(ops.settings, ops.store, sources, monday, say=status.update)
        notes.counts.update(themes=len(report.issue.sections), articles=report.articles)
    _print_issue(report)
    return report


def _print_issue(report: pipeline.BuildReport) -> None:
    issue = report.issue
    console.print(
        f"Issue [bold]{issue.id}[/bold]: {len(issue.sections)} themes, "
        f"{len(issue.quick_hits)} quick hits, from {report.articles} articles in "
        f"{report.stories} stories"
    )
    for section in issue.sections:
        console.print(f"  • {section.theme.name} ({len(section.theme.stories)} stories)")
    if report.writing is not None:
        cli_publish.print_writing(report.writing, console)
    p = report.published
    console.print(f"site:  {p.index}\nissue: {p.issue_page}\nfeed:  {p.feed}\nemail: {p.email}")


def cmd_demo(args: argparse.Namespace) -> int:
    folder = demo.sample_week(args.data)
    settings = demo.demo_settings(args.out)
    store = Store(settings.store.url)
    ops = Operations(settings, store)
    try:
        with demo.serve(folder) as base:
            console.print(f"serving the sample week from {folder} at {base}")
            sources = load_sources(folder / "sources.yaml", base=base)
            policy = pipeline.fetch_policy(settings)
            _crawl(ops, sources, policy, force=True)
        _build(ops, sources, args.week)
    finally:
        store.close()
    config = demo.write_config(args.out)
    console.print(
        f"\nOpen {settings.site.dir / 'index.html'} in a browser, or serve it with "
        f"`python -m http.server 8000 -d {settings.site.dir}` and visit {demo.DEMO_BASE_URL}"
        f"\n`digest status --config {config}` shows the runs, the sources and the last issue."
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    where = make_url(settings.store.url).render_as_string(hide_password=True)
    try:
        Store(settings.store.url, create=False).close()
    except StoreMissingError:
        Store(settings.store.url).close()
        console.print(f"created the store at {where}; next: `digest crawl`")
    else:
        console.print(f"the store at {where} exists already; nothing to do")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    store.close()
    before, now = store.migrated
    where = make_url(settings.store.url).render_as_string(hide_password=True)
    if before == now:
        console.print(f"the store at {where} is at the newest schema revision, {now}")
    else:
        console.print(
            f"upgraded the store at {where} from schema revision {before or 'none'} to {now}"
        )
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    store = Store(settings.store.url, create=False)
    try:
        ops = Operations(settings, store, say=_notice)
        report = _crawl(ops, sources, pipeline.fetch_policy(settings), args.force)
    finally:
        store.close()
    return 1 if report.outcomes and len(report.failed) == len(report.outcomes) else 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    store = Store(settings.store.url, create=False)
    try:
        health = store.source_health()
    finally:
        store.close()
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


def cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    try:
        _build(Operations(settings, store, say=_notice), load_sources(settings.sources), args.week)
    finally:
        store.close()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    configure_logging(settings.log)
    stop = StopFlag()
    stop_on_signals(stop, lambda text: console.print(f"[yellow]{text}[/yellow]"))
    store = Store(settings.store.url, create=False)
    ops = Operations(settings, store, stop=stop, unattended=True, say=_notice)
    try:
        monday = (
            pipeline.parse_week(args.week) if args.week else week_of(ops.clock(), settings.schedule)
        )
        _crawl(ops, sources, pipeline.fetch_policy(settings))
        ops.check_stop(f"making issue {pipeline.issue_id(monday)}")
        with console.status(f"making issue {pipeline.issue_id(monday)}") as status:
            outcome = jobs.make_issue(
                ops,
                sources,
                monday,
                lambda: pipeline.load_embedder(settings),
                args.force,
                say=status.update,
            )
    except Stopped as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        return 130
    finally:
        store.close()
    if (report := outcome.report) is not None:
        issue = report.issue
        console.print(
            f"Issue [bold]{issue.id}[/bold] ({'published' if report.sent else report.action}): "
            f"{len(issue.sections)} themes, {len(issue.quick_hits)} quick hits"
        )
        for label, path in report.files:
            console.print(f"{label + ':':9}{path}")
        if report.writing is not None:
            cli_publish.print_writing(report.writing, console)
        if report.sent is not None:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(report.sent.ledger.items()))
            console.print(f"email:   {counts or 'no subscribers yet'}")
    elif made := outcome.made_before:
        console.print(
            f"Issue [bold]{outcome.issue_id}[/bold] was already made ({made.stage}, "
            f"{made.ended_at or made.started_at:%Y-%m-%d %H:%M} UTC); nothing to do. "
            "Pass --force to make it again."
        )
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    configure_logging(settings.log)
    _expat_notice()
    store = Store(settings.store.url, create=False)
    try:
        scheduler.run_forever(settings, sources, store, lambda text: console.print(text))
    finally:
        store.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        names = [s.name for s in load_sources(settings.sources)]
    except ConfigError:
        names = []  # status still shows every source the crawl runs recorded
    store = Store(settings.store.url, create=False)
    try:
        report = status.gather(settings, store, names, utcnow())
    finally:
        store.close()
    status.render(report, console)
    return 1 if report.problems else 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from digest.analyze.cluster import cluster_articles, write_assignments
    from digest.analyze.embed import MemoryCache, VectorCache, make_embedder
    from digest.analyze.items import read_items
    from digest.config import AnalyzeSettings

    articles = read_items(args.input)
    settings = AnalyzeSettings()
    if args.threshold is not None:
        settings = settings.model_copy(update={"story_threshold": args.threshold})
    store = Store(f"sqlite:///{args.cache}") if args.cache else None
    cache: VectorCache = store or MemoryCache()
    try:
        with console.status(f"embedding and clustering {len(articles)} items"):
            embedder = make_embedder(args.model, args.backend)
            assignments = cluster_articles(articles, embedder, cache, settings)
    finally:
        if store:
            store.close()
    write_assignments(assignments, args.output)
    stories = len({a.story for a in assignments})
    themes = len({a.theme for a in assignments if a.theme})
    console.print(
        f"{len(assignments)} items in {stories} stories and {themes} themes: {args.output}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="digest", description="Turn a week of AI news into a cited newsletter issue."
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config", type=Path, default=None, help="settings file (default: ./digest.toml)"
        )

    def with_week(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--week", help="ISO week to build, like 2026-W47 (default: the newest article's)"
        )

    p = command("demo", "Serve the shipped sample week on 127.0.0.1 and build an issue from it.")
    p.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder")
    p.add_argument("--data", type=Path, default=None, help="sample week folder to serve")
    with_week(p)
    p.set_defaults(run=cmd_demo)

    p = command("init", "Create the store that store.url names (every other command needs it).")
    with_config(p)
    p.set_defaults(run=cmd_init)

    p = command("crawl", "Fetch every due source in sources.yaml and store new articles.")
    with_config(p)
    p.add_argument(
        "--force", action="store_true", help="fetch every source now, ignoring interval and backoff"
    )
    p.set_defaults(run=cmd_crawl)

    p = command("migrate", "Upgrade the store's schema to this version of digest (Alembic).")
    with_config(p)
    p.set_defaults(run=cmd_migrate)

    p = command("sources", "Inspect the sources in sources.yaml.")
    group = p.add_subparsers(dest="sources_command", required=True, metavar="ACTION", help="action")
    check = group.add_parser(
        "check",
        help="print every source's health",
        description="Print every source's health: last success, failures, next fetch, last error.",
    )
    with_config(check)
    check.set_defaults(run=cmd_sources_check)

    p = command("build", "Analyze, write and publish one week's issue from stored articles.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_build)

    p = command(
        "cluster",
        "Group a JSONL file of items into stories and themes, offline, with the shipped defaults.",
    )
    p.add_argument(
        "--input",
        type=Path,
        required=True,
        help="JSONL, one item a line: id, title, text, url, published_at, source",
    )
    p.add_argument(
        "--output",
        type=Path,
        required=True,
        help='JSONL written, one line per item: {"id", "story", "theme"}',
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="SQLite file keeping vectors between runs (default: none, embed every run)",
    )
    p.add_argument(
        "--model",
        default="all-MiniLM-L6-v2",
        help="sentence-transformers model name or path (default: the shipped all-MiniLM-L6-v2)",
    )
    p.add_argument(
        "--backend",
        choices=["torch", "onnx-int8"],
        default=EmbedSettings().backend,
        help="embedding backend (default: embed.backend's default)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="story similarity threshold (default: analyze.story_threshold's default)",
    )
    p.set_defaults(run=cmd_cluster)

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

    cli_publish.add_commands(command, with_config, with_week)

    p = command("schedule", "Run the crawl and weekly jobs of digest.toml in the foreground.")
    with_config(p)
    p.set_defaults(run=cmd_schedule)

    p = command("status", "Show the last runs, next runs, source health and the last issue.")
    with_config(p)
    p.set_defaults(run=cmd_status)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except DigestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/yellow]")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
