"""The static site: front page, a permanent page per issue and the archive, swapped in whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from jinja2 import Environment

from digest.models import Issue
from digest.publish.render import render


def write_pages(
    build_dir: Path, issues: Sequence[Issue], env: Environment, site_title: str, base_url: str
) -> None:
    """Write index.html, issues/<id>/index.html and archive/index.html; issues newest first."""
    common = {"site_title": site_title, "base_url": base_url}
    _write(build_dir / "index.html", render(env, "index.html", issue=issues[0], root="", **common))
    for position, issue in enumerate(issues):
        page = render(
            env,
            "issue.html",
            issue=issue,
            newer=issues[position - 1] if position > 0 else None,
            older=issues[position + 1] if position + 1 < len(issues) else None,
            root="../../",
            **common,
        )
        _write(build_dir / "issues" / issue.id / "index.html", page)
    archive = render(env, "archive.html", issues=issues, root="../", **common)
    _write(build_dir / "archive" / "index.html", archive)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@contextmanager
def swapped_in(site_dir: Path) -> Iterator[Path]:
    """A fresh directory beside site_dir that replaces it only if the with-block succeeds."""
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.build-", dir=site_dir.parent))
    old = build.with_name(build.name.replace(".build-", ".old-", 1))
    try:
        yield build
        os.chmod(build, 0o755)  # mkdtemp makes it private; a web server must read it
        if site_dir.exists():
            site_dir.rename(old)
        try:
            build.rename(site_dir)
        except OSError:
            if old.exists():
                old.rename(site_dir)
            raise
        if old.exists():
            shutil.rmtree(old)
    finally:
        shutil.rmtree(build, ignore_errors=True)
