"""A small real week on loopback for publish-side tests: served feeds, a store, the CLI."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest import cli
from tests.opskit import SAMPLE_WEEK, base_url, feed_server, write_config

WEEK = "2026-W47"
SECRET = "s" * 32


@dataclass
class Week:
    folder: Path
    config: Path

    def digest(self, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
        """Run one `digest` command in this process; its exit code and what it printed."""
        lines: list[str] = []

        def keep(*a: object, **_: object) -> None:
            lines.append(" ".join(map(str, a)))

        with monkeypatch.context() as m:
            m.setattr(cli.console, "print", keep)
            command, *rest = args
            code = cli.main([command, "--config", str(self.config), *rest])
        return code, "\n".join(lines)


def rewrite_titles(xml: str, edit: Callable[[str], str]) -> str:
    """The feed with every item's title passed through `edit`."""
    return re.sub(r"(<item>\s*<title>)([^<]*)(</title>)", lambda m: m[1] + edit(m[2]) + m[3], xml)


def hostile_bodies(xml: str, body: str) -> str:
    """The feed with `body` appended to every item's description."""
    return re.sub(
        r"(<description><!\[CDATA\[)(.*?)(\]\]></description>)",
        lambda m: m[1] + m[2] + body + m[3],
        xml,
        flags=re.DOTALL,
    )


@contextmanager
def served_week(
    tmp: Path,
    edit: Callable[[str], str] = lambda xml: xml,
    first: int = 4,
    **sections: dict[str, object],
) -> Iterator[Week]:
    """The sample week's first `first` sources, each feed passed through `edit`, served on
    127.0.0.1, with a digest.toml and an initialised store in `tmp`."""
    folder = tmp / "week"
    shutil.copytree(SAMPLE_WEEK, folder)
    for feed in (folder / "feeds").glob("*.xml"):
        feed.write_text(edit(feed.read_text(encoding="utf-8")), encoding="utf-8")
    with feed_server(folder) as server:
        yield Week(tmp, write_config(tmp, base_url(server), first=first, **sections))
