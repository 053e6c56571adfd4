"""Checks shared by the publish tests: nothing executable in HTML, and every internal link works."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "poster", "srcset")
_DANGEROUS_SCHEME = re.compile(r"^\s*(javascript|data|vbscript):", re.IGNORECASE)
_DANGEROUS_TAGS = ("iframe", "object", "embed", "base", "style", "frame", "svg", "math", "form")


def assert_no_executable_html(
    soup: BeautifulSoup | Tag, where: object, allow_our_script: bool = True
) -> None:
    """No inline script, handler, dangerous URL or embedding element; only our search.js."""
    for script in soup.find_all("script"):
        src = str(script.get("src", ""))
        assert allow_our_script and src.endswith("static/search.js"), f"{where}: {script}"
        assert not script.get_text().strip(), f"{where}: inline script text {script}"
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), f"{where}: handler {name} on <{tag.name}>"
            text = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower() in _URL_ATTRIBUTES:
                cleaned = re.sub(r"[\x00-\x20]", "", text)
                assert not _DANGEROUS_SCHEME.match(cleaned), f"{where}: {name}={text!r}"
            if name.lower() == "style":
                assert not re.search(r"expression|url\s*\(|javascript", text, re.I), (
                    f"{where}: style={text!r}"
                )
        if tag.name in _DANGEROUS_TAGS and not (tag.name == "form" and _our_form(tag)):
            raise AssertionError(f"{where}: <{tag.name}> element: {tag}")
        if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
            raise AssertionError(f"{where}: meta refresh")


def _our_form(form: Tag) -> bool:
    """The search, subscribe and unsubscribe forms the templates write; never a source's."""
    action = str(form.get("action", ""))
    return form.get("role") == "search" or (
        form.get("method") == "post" and (not action or action.endswith("subscribe/"))
    )


def _ids(page: Path, cache: dict[Path, set[str]]) -> set[str]:
    if page not in cache:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        cache[page] = {str(t["id"]) for t in soup.find_all(id=True)}
    return cache[page]


def assert_links_resolve(site_dir: Path) -> int:
    """Every relative link, stylesheet, script and form target of every page exists,
    fragment included; returns how many were checked."""
    checked = 0
    ids: dict[Path, set[str]] = {}
    for page in sorted(site_dir.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["a", "link", "script", "form"]):
            target = tag.get("href") or tag.get("src") or tag.get("action")
            if target is None:
                continue
            parts = urlsplit(str(target))
            if parts.scheme or parts.netloc:
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if path.is_dir():
                path = path / "index.html"
            assert path.is_file(), f"{page.relative_to(site_dir)}: broken link {target}"
            assert site_dir.resolve() in path.parents, f"{page}: link {target} leaves the site"
            if parts.fragment and path.suffix == ".html":
                assert parts.fragment in _ids(path, ids), f"{page}: no #{parts.fragment} in {path}"
            checked += 1
    return checked
