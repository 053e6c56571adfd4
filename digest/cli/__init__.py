"""The `digest` command: parse arguments, call the pipeline, print what happened.

One module per command group: setup (demo, init, migrate), fetch (crawl, sources), issue
(build, run), editing (draft, check, publish, deliver), readers (send, subscribers, serve),
unattended (schedule, status), offline (cluster). context.py opens the settings and the store
once per command; show.py prints what the pipeline did.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from digest.cli import editing, fetch, issue, offline, readers, setup, unattended
from digest.cli.context import console
from digest.errors import DigestError

__all__ = ["console", "main", "parser"]


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

    setup.add_commands(command, with_config, with_week)
    fetch.add_crawl(command, with_config)
    setup.add_migrate(command, with_config)
    fetch.add_sources(command, with_config)
    issue.add_build(command, with_config, with_week)
    offline.add_commands(command)
    issue.add_run(command, with_config)
    editing.add_commands(command, with_config, with_week)
    readers.add_commands(command, with_config, with_week)
    unattended.add_commands(command, with_config)
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
