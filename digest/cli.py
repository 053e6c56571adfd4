"""The `digest` command: parse arguments, call the pipeline, print what happened."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from digest import demo, pipeline
from digest.config import Settings, load_settings, load_sources
from digest.crawl import SourceResult
from digest.crawl.http import FetchPolicy
from digest.errors import DigestError
from digest.models import Source
from digest.store import Store
from digest.write.compose import WriteReport

console = Console(highlight=False)


def _crawl(sources: Sequence[Source], store: Store, policy: FetchPolicy) -> pipeline.CrawlReport:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("crawling", total=len(sources))

        def done(result: SourceResult) -> None:
            progress.update(task, advance=1, description=f"crawled {result.source.name}")

        report = pipeline.crawl(sources, store, policy, done)
    table = Table(title="Crawl", title_justify="left")
    for column in ("source", "items", "new", "problem"):
        table.add_column(column, justify="right" if column in ("items", "new") else "left")
    for o in report.outcomes:
        problem = f"[red]{o.error}[/red]" if o.error else ""
        table.add_row(o.source, str(o.fetched), str(o.new), problem)
    console.print(table)
    ok = len(report.outcomes) - len(report.failed)
    console.print(
        f"{report.new_articles} new articles from {ok} of {len(report.outcomes)} sources"
        + (f"; [red]{len(report.failed)} failed and were skipped[/red]" if report.failed else "")
    )
    return report


def _build(
    settings: Settings, store: Store, sources: Sequence[Source], week: str | None
) -> pipeline.BuildReport:
    monday = pipeline.parse_week(week) if week else None
    with console.status("building the issue") as status:
        report = pipeline.build(settings, store, sources, monday, say=status.update)
    issue = report.issue
    console.print(
        f"Issue [bold]{issue.id}[/bold]: {len(issue.sections)} themes, "
        f"{len(issue.quick_hits)} quick hits, from {report.articles} articles in "
        f"{report.stories} stories"
    )
    for section in issue.sections:
        console.print(f"  • {section.theme.name} ({len(section.theme.stories)} stories)")
    if report.writing is not None:
        _writing(report.writing)
    p = report.published
    console.print(f"site:  {p.index}\nissue: {p.issue_page}\nfeed:  {p.feed}\nemail: {p.email}")
    return report


def _writing(w: WriteReport) -> None:
    g = w.grounding
    console.print(
        f"writer: {w.backend}; grounding checked {g.checked} sentences, dropped {g.dropped} "
        f"(bad citation {g.bad_citation}, made-up quote {g.made_up_quote}, link "
        f"{g.foreign_link}, unsupported {g.unsupported}), repeated {w.repeated}, "
        f"rewritten extractively {g.regenerated}"
    )
    if w.usage is not None:
        u = w.usage
        console.print(
            f"LLM: {u.calls} calls ({u.retries} retries, {u.failed} failed), {u.cached} from "
            f"cache, {u.input_tokens} input + {u.output_tokens} output tokens, "
            f"about ${u.cost:.4f}"
            + (f"; {u.skipped_budget} skipped over budget" if u.skipped_budget else "")
            + (f"; {u.skipped_breaker} skipped by the circuit breaker" if u.skipped_breaker else "")
        )
    for line in w.fallbacks:
        console.print(f"  [yellow]extractive instead:[/yellow] {line}")


def cmd_demo(args: argparse.Namespace) -> int:
    folder = demo.sample_week(args.data)
    settings = demo.demo_settings(args.out)
    store = Store(settings.store.url)
    try:
        with demo.serve(folder) as base:
            console.print(f"serving the sample week from {folder} at {base}")
            sources = load_sources(folder / "sources.yaml", base=base)
            policy = pipeline.fetch_policy(settings)
            _crawl(sources, store, policy)
        _build(settings, store, sources, args.week)
    finally:
        store.close()
    console.print(
        f"\nOpen {settings.site.dir / 'index.html'} in a browser, or serve it with "
        f"`python -m http.server 8000 -d {settings.site.dir}` and visit {demo.DEMO_BASE_URL}"
    )
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    store = Store(settings.store.url)
    try:
        report = _crawl(sources, store, pipeline.fetch_policy(settings))
    finally:
        store.close()
    return 1 if report.outcomes and len(report.failed) == len(report.outcomes) else 0


def cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url)
    try:
        _build(settings, store, load_sources(settings.sources), args.week)
    finally:
        store.close()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    sources = load_sources(settings.sources)
    store = Store(settings.store.url)
    try:
        _crawl(sources, store, pipeline.fetch_policy(settings))
        _build(settings, store, sources, args.week)
    finally:
        store.close()
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

    p = command("crawl", "Fetch every source in sources.yaml and store new articles.")
    with_config(p)
    p.set_defaults(run=cmd_crawl)

    p = command("build", "Analyze, write and publish one week's issue from stored articles.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_build)

    p = command("run", "Crawl, then build: what a weekly cron job calls.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_run)
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
