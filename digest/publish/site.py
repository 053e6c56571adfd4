"""The static site: home, a page per issue and per story, archive, themes, search and sitemap."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from jinja2 import Environment

from digest.models import Issue, Section, Theme
from digest.processes import alive
from digest.publish.making import Making
from digest.publish.render import (
    issue_path,
    making_path,
    render,
    story_anchor,
    story_path,
    strip_control,
    theme_path,
    theme_slug,
    week_range,
)
from digest.publish.stories import StoryIndex, StoryRecord, timeline

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_STATIC = ("search.js", "favicon.svg")


@dataclass(frozen=True)
class SiteRecords:
    """What the store knows beyond the issues: every story they told, and how each was made."""

    stories: tuple[StoryRecord, ...] = ()
    makings: Mapping[str, Making] = field(default_factory=dict)


@dataclass(frozen=True)
class ThemeEntry:
    """One issue's section on a theme."""

    issue: Issue
    section: Section


@dataclass(frozen=True)
class ThemePage:
    """A theme across issues: its newest name and its sections, newest first."""

    theme: Theme
    entries: tuple[ThemeEntry, ...]


def theme_pages(issues: Sequence[Issue]) -> list[ThemePage]:
    """Every theme of the archive (issues newest first), newest theme first."""
    found: dict[str, list[ThemeEntry]] = {}
    for issue in issues:
        for section in issue.sections:
            found.setdefault(theme_slug(section.theme), []).append(ThemeEntry(issue, section))
    return [ThemePage(entries[0].section.theme, tuple(entries)) for entries in found.values()]


def write_pages(
    build_dir: Path,
    issues: Sequence[Issue],
    env: Environment,
    site_title: str,
    base_url: str,
    records: SiteRecords | None = None,
) -> list[ThemePage]:
    """Write every page, the search index, the sitemap and static files; issues newest first."""
    records = records or SiteRecords()
    env.globals["stories"] = StoryIndex(records.stories)
    common: dict[str, Any] = {"site_title": site_title, "base_url": base_url}
    made = {i.id: making_path(i) for i in issues if i.id in records.makings}
    home = render(
        env, "index.html", issue=issues[0], made=made.get(issues[0].id, ""), root="", **common
    )
    _write(build_dir / "index.html", home)
    for position, issue in enumerate(issues):
        page = render(
            env,
            "issue.html",
            issue=issue,
            newer=issues[position - 1] if position > 0 else None,
            older=issues[position + 1] if position + 1 < len(issues) else None,
            made=made.get(issue.id, ""),
            root="../../",
            **common,
        )
        _write(build_dir / issue_path(issue), page)
    write_record_pages(build_dir, issues, records, env, common)
    archive = render(env, "archive.html", issues=issues, root="../", **common)
    _write(build_dir / "archive" / "index.html", archive)
    themes = theme_pages(issues)
    _write(
        build_dir / "themes" / "index.html",
        render(env, "themes.html", themes=themes, root="../", **common),
    )
    for theme in themes:
        page = render(env, "theme.html", page=theme, root="../../", **common)
        _write(build_dir / theme_path(theme.theme), page)
    _write(build_dir / "search" / "index.html", render(env, "search.html", root="../", **common))
    _write(
        build_dir / "subscribe" / "index.html",
        render(env, "subscribe.html", state="form", token="", address="", root="../", **common),
    )
    _write(build_dir / "search.json", search_index(issues))
    _write(build_dir / "static" / "style.css", render(env, "style.css"))
    for name in _STATIC:
        _write(
            build_dir / "static" / name,
            files("digest.publish").joinpath("static", name).read_text("utf-8"),
        )
    (build_dir / "sitemap.xml").write_bytes(sitemap(issues, themes, base_url, records.stories))
    return themes


def write_record_pages(
    build_dir: Path,
    issues: Sequence[Issue],
    records: SiteRecords,
    env: Environment,
    common: dict[str, Any],
) -> None:
    """A page per story the issues told, and a "How this issue was made" page per issue."""
    by_id = {i.id: i for i in issues}
    for story in records.stories:
        moments = timeline(story, by_id)
        told_in = [by_id[i] for i in story.issues if i in by_id]
        page = render(
            env, "story.html", story=story, moments=moments, issues=told_in, root="../../", **common
        )
        _write(build_dir / story_path(story.id), page)
    for issue in issues:
        if (making := records.makings.get(issue.id)) is not None:
            page = render(env, "made.html", issue=issue, record=making, root="../../../", **common)
            _write(build_dir / making_path(issue), page)


def search_index(issues: Sequence[Issue]) -> str:
    """Every story and note of every issue as JSON data for search.js: never code."""
    entries: list[dict[str, str]] = []
    for issue in issues:
        label = f"{week_range(issue)}: {issue.title}"
        for section in issue.sections:
            for story in section.theme.stories:
                text = " ".join(a.summary for a in story.articles[:1])
                entries.append(
                    {
                        "t": story.title,
                        "x": " ".join(f"{text} {' '.join(story.sources)}".split())[:400],
                        "h": section.theme.name,
                        "i": label,
                        "u": f"{issue_path(issue)}#{story_anchor(story)}",
                    }
                )
        for heading, notes, target in (
            ("Quick hits", issue.quick_hits, "quick-hits"),
            ("Research corner", issue.research, "research"),
            ("What to watch", issue.watch, "watch"),
        ):
            for note in notes:
                title = note.citations[0].title if note.citations else note.sentence.text
                entries.append(
                    {
                        "t": title,
                        "x": note.sentence.text,
                        "h": heading,
                        "i": label,
                        "u": f"{issue_path(issue)}#{target}",
                    }
                )
    cleaned = [{k: strip_control(v) for k, v in e.items()} for e in entries]
    text = json.dumps(cleaned, ensure_ascii=True, separators=(",", ":"))
    # Never markup, even to a tool that sniffs the file as HTML.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def sitemap(
    issues: Sequence[Issue],
    themes: Sequence[ThemePage],
    base_url: str,
    stories: Sequence[StoryRecord] = (),
) -> bytes:
    """sitemap.xml: home, archive, themes and every issue and story at its permanent URL."""
    ElementTree.register_namespace("", _SITEMAP_NS)
    urlset = ElementTree.Element(f"{{{_SITEMAP_NS}}}urlset")

    def add(path: str, modified: Issue | None = None) -> None:
        url = ElementTree.SubElement(urlset, f"{{{_SITEMAP_NS}}}url")
        ElementTree.SubElement(url, f"{{{_SITEMAP_NS}}}loc").text = base_url + path
        if modified is not None:
            lastmod = ElementTree.SubElement(url, f"{{{_SITEMAP_NS}}}lastmod")
            lastmod.text = modified.built_at.date().isoformat()

    add("", issues[0])
    add("archive/", issues[0])
    add("themes/")
    for issue in issues:
        add(f"issues/{issue.id}/", issue)
    for page in themes:
        add(f"themes/{theme_slug(page.theme)}/", page.entries[0].issue)
    for story in stories:
        add(story_path(story.id).removesuffix("index.html"))
    tree = ElementTree.ElementTree(urlset)
    ElementTree.indent(tree)
    text: bytes = ElementTree.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _clear_staging(site_dir: Path) -> None:
    """Remove the staging folders of builds that were killed; a site left half-swapped (the
    old one moved aside, the new one not yet in) is put back first."""
    for kind in ("old", "build"):  # an old site is what to restore, so it goes first
        for left in sorted(site_dir.parent.glob(f".{site_dir.name}.{kind}-*")):
            pid = left.name.removeprefix(f".{site_dir.name}.{kind}-").split("-")[0]
            if pid.isdigit() and int(pid) != os.getpid() and alive(int(pid)):
                continue  # a build running now in another process
            if kind == "old" and not site_dir.exists():
                left.rename(site_dir)
            else:
                shutil.rmtree(left, ignore_errors=True)


@contextmanager
def swapped_in(site_dir: Path) -> Iterator[Path]:
    """A fresh directory beside site_dir that replaces it only if the with-block succeeds."""
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    _clear_staging(site_dir)
    build = Path(
        tempfile.mkdtemp(prefix=f".{site_dir.name}.build-{os.getpid()}-", dir=site_dir.parent)
    )
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
