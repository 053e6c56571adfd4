"""What every command shares: the console, and the settings and store opened once per command."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from digest import pipeline
from digest.config import Settings, load_settings
from digest.models import Source
from digest.ops.logs import configure_logging

console = Console(highlight=False)
LOCK_WAIT = 600.0  # seconds a command waits for another process's run to finish
Command = Callable[[str, str], argparse.ArgumentParser]  # (name, help) -> its parser
Option = Callable[[argparse.ArgumentParser], None]


@dataclass
class Context:
    """A command's settings, its sources (when it asked for them) and the open store."""

    settings: Settings
    store: pipeline.Store
    sources: list[Source] = field(default_factory=list)


@contextmanager
def opened(
    config: Path | None, *, sources: bool = False, logs: bool = False, create: bool = False
) -> Iterator[Context]:
    """Load digest.toml (and sources.yaml, and the log settings, when asked), then open the
    store (made when `create`, else it must exist) and close it when the block ends."""
    settings = load_settings(config)
    listed = pipeline.load_sources(settings.sources) if sources else []
    if logs:
        configure_logging(settings.log)
    store = pipeline.Store(settings.store.url, create=create)
    try:
        yield Context(settings, store, listed)
    finally:
        store.close()


def issue_arg(week: str | None) -> str | None:
    """The issue id of --week (2026-W47 -> 2026-w47), or None for the default one."""
    return pipeline.issue_id(pipeline.parse_week(week)) if week else None
