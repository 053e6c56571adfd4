"""`digest schedule` and `digest status`: the jobs run in the foreground, and how they went."""

from __future__ import annotations

import argparse

from digest import pipeline
from digest.cli import show
from digest.cli.context import Command, Option, console, opened
from digest.errors import ConfigError
from digest.ops import scheduler, status, utcnow


def cmd_schedule(args: argparse.Namespace) -> int:
    with opened(args.config, sources=True, logs=True) as ctx:
        show.expat_notice()
        scheduler.run_forever(
            ctx.settings, ctx.sources, ctx.store, lambda text: console.print(text)
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        try:
            names = [s.name for s in pipeline.load_sources(ctx.settings.sources)]
        except ConfigError:
            names = []  # status still shows every source the crawl runs recorded
        report = status.gather(ctx.settings, ctx.store, names, utcnow())
    status.render(report, console)
    return 1 if report.problems else 0


def add_commands(command: Command, with_config: Option) -> None:
    p = command("schedule", "Run the crawl and weekly jobs of digest.toml in the foreground.")
    with_config(p)
    p.set_defaults(run=cmd_schedule)

    p = command("status", "Show the last runs, next runs, source health and the last issue.")
    with_config(p)
    p.set_defaults(run=cmd_status)
