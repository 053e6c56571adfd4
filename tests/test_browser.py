"""The site as a reader sees it, in headless Chromium: renders, searches, dark mode, no errors."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from digest.config import ServeSettings
from digest.publish import PublishSettings, publish
from digest.publish.render import make_environment
from digest.publish.serve import make_app, running
from tests.browser import ARTIFACTS, chromium
from tests.issues import BASE_URL, hostile_issue, two_weeks


@dataclass
class Site:
    url: str
    driver: Any


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    out = tmp_path_factory.mktemp("browser")
    settings = PublishSettings(
        site_dir=out / "site", email_dir=out / "email", base_url=BASE_URL, site_title="digest"
    )
    newer, older = two_weeks()
    publish(older, [], settings)
    publish(newer, [older], settings)
    hostile = out / "hostile"
    publish(hostile_issue(), [], PublishSettings(hostile / "site", hostile / "email", BASE_URL))
    env = make_environment()
    app = make_app(
        out,
        env,
        {"site_title": "digest", "base_url": BASE_URL},
        lambda t, a: False,
        ServeSettings(),
    )
    with running(app, ServeSettings()) as url, chromium() as driver:
        yield Site(url, driver)


def _open(site: Site, path: str) -> None:
    site.driver.get(site.url + path)
    site.driver.get_log("browser")  # start each page with an empty console


def _console_errors(site: Site) -> list[str]:
    return [e["message"] for e in site.driver.get_log("browser") if e["level"] == "SEVERE"]


def _wait(condition: Any, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the page")


def test_issue_page_renders_without_console_errors(site: Site) -> None:
    site.driver.get(site.url + "site/issues/2026-w47/index.html")
    d = site.driver
    assert d.execute_script("return document.querySelector('h1').textContent") == (
        "digest — week 47: Coding agents ship to everyone"
    )
    headings = d.execute_script(
        "return [...document.querySelectorAll('main h2')].map(h => h.textContent)"
    )
    assert headings == [
        "Coding agents ship to everyone leads the week",
        "Open speech model rivals studio voices leads the week",
        "Quick hits",
    ]
    # the stylesheet applied: serif body text, a readable measure, nothing overflowing
    font = d.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "Charter" in font or "serif" in font
    main_width = d.execute_script("return document.querySelector('main').clientWidth")
    assert 500 < main_width <= 44 * 18 + 40
    assert _console_errors(site) == []
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / "issue-page.png"))
    assert (ARTIFACTS / "issue-page.png").stat().st_size > 10_000


@pytest.mark.parametrize("page", ["site/index.html", "site/issues/2026-w47/index.html"])
def test_table_of_contents_reaches_every_section(site: Site, page: str) -> None:
    d = site.driver
    d.set_window_size(1200, 500)  # short, so that every section has to be scrolled to
    try:
        _open(site, page)
        links = d.execute_script(
            "return [...document.querySelectorAll('nav.toc a')].map(a => a.textContent)"
        )
        sections = d.execute_script(
            "return [...document.querySelectorAll('main section > h2')].map(h => h.id)"
        )
        assert links == ["Agents at work", "Audio models", "Quick hits"]
        reached = []
        for n in range(len(links)):
            d.execute_script("window.scrollTo(0, 0)")
            d.execute_script("document.querySelectorAll('nav.toc a')[arguments[0]].click()", n)
            reached.append(
                _wait(
                    lambda: d.execute_script(
                        "const h = document.querySelector(':target');"
                        "const top = h && h.getBoundingClientRect().top;"
                        "return h && top >= 0 && top < innerHeight / 2 && h.id"
                    )
                )
            )
        assert reached == sections
    finally:
        d.set_window_size(1200, 900)


def test_headline_stands_above_its_theme_label(site: Site) -> None:
    d = site.driver
    _open(site, "site/issues/2026-w47/index.html")
    pairs = d.execute_script(
        "return [...document.querySelectorAll('section.theme')].map(s => {"
        "const h = s.querySelector('h2'), label = s.querySelector('.label');"
        "return [h.textContent, h.getBoundingClientRect().bottom,"
        "label.textContent, label.getBoundingClientRect().top,"
        "parseFloat(getComputedStyle(h).fontSize), parseFloat(getComputedStyle(label).fontSize)];"
        "})"
    )
    assert [(p[0], p[2]) for p in pairs] == [
        ("Coding agents ship to everyone leads the week", "Agents at work"),
        ("Open speech model rivals studio voices leads the week", "Audio models"),
    ]
    for _, headline_bottom, _, label_top, headline_size, label_size in pairs:
        assert headline_bottom <= label_top and headline_size > label_size


def test_narrow_screen_does_not_scroll_sideways(site: Site) -> None:
    d = site.driver
    d.set_window_size(390, 844)
    try:
        _open(site, "site/index.html")
        wide = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0
        d.save_screenshot(str(ARTIFACTS / "home-phone.png"))
    finally:
        d.set_window_size(1200, 900)


def test_dark_mode_follows_the_system(site: Site) -> None:
    d = site.driver
    background = "return getComputedStyle(document.body).backgroundColor"
    _open(site, "site/index.html")
    assert d.execute_script(background) == "rgb(251, 250, 247)"
    d.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        _open(site, "site/index.html")
        assert d.execute_script(background) == "rgb(20, 20, 22)"
        assert d.execute_script("return getComputedStyle(document.body).color") == (
            "rgb(233, 231, 226)"
        )
        d.save_screenshot(str(ARTIFACTS / "home-dark.png"))
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


_CONTRAST = """
const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
return [...document.querySelectorAll('main p, main a, main h1, main h2, main h3, main li, '
  + 'main small, .masthead a, footer p')].map(e => {
  const fg = lum(rgb(getComputedStyle(e).color));
  return [e.tagName + '.' + e.className, (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)];
});
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(site: Site, scheme: str) -> None:
    d = site.driver
    d.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    try:
        _open(site, "site/issues/2026-w47/index.html")
        ratios = d.execute_script(_CONTRAST)
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert len(ratios) > 20
    low = [(name, round(ratio, 2)) for name, ratio in ratios if ratio < 4.5]
    assert low == []


def test_search_finds_a_story_of_an_older_issue(site: Site) -> None:
    d = site.driver
    _open(site, "site/index.html")
    box = d.find_element("id", "site-search")
    box.send_keys("lighthouse travel\n")
    results = _wait(
        lambda: d.execute_script(
            "return [...document.querySelectorAll('#search-results a')].map(a => a.href)"
        )
    )
    assert results == [f"{site.url}site/issues/2026-w46/index.html#story-s-agents-w46-1"]
    status = d.find_element("id", "search-status").text
    assert status == "1 story matches \u201clighthouse travel\u201d."
    d.find_element("css selector", "#search-results a").click()
    _wait(lambda: "2026-w46" in d.current_url)
    target = d.execute_script("return document.querySelector(':target').textContent")
    assert "Lighthouse agent books travel" in target
    typed = d.find_element("id", "site-search")
    typed.send_keys("no such words anywhere\n")
    _wait(lambda: "No story matches" in d.find_element("id", "search-status").text)
    assert _console_errors(site) == []


def test_hostile_issue_runs_nothing(site: Site) -> None:
    d = site.driver
    for page in ("hostile/site/index.html", "hostile/site/search/index.html?q=script"):
        _open(site, page)
        if "search" in page:
            _wait(
                lambda: d.execute_script(
                    "return document.querySelectorAll('#search-results li').length"
                )
            )
        d.execute_script(
            "document.querySelectorAll('a, li, p')"
            ".forEach(e => e.dispatchEvent(new MouseEvent('mouseover')))"
        )
        assert d.execute_script("return window.pwned") is None
        assert d.execute_script("return document.querySelectorAll('img, iframe, svg').length") == 0
        assert _console_errors(site) == []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))


def test_every_internal_link_resolves_over_http(site: Site) -> None:
    start = site.url + "site/index.html"
    pages: dict[str, _Links] = {}
    queue, seen, fragments = [start], {start}, []
    while queue:
        url = queue.pop()
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            body = response.read()
            kind = response.headers.get_content_type()
        if kind != "text/html":
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        pages[url] = parser
        for link in parser.links:
            absolute, fragment = urldefrag(urljoin(url, link))
            if urlsplit(absolute).netloc != urlsplit(site.url).netloc:
                continue
            if fragment:
                fragments.append((url, absolute, fragment))
            if absolute not in seen:
                seen.add(absolute)
                queue.append(absolute)
    assert len(pages) >= 8
    for page, target, fragment in fragments:
        assert fragment in pages[target].ids, f"{page} links to a missing #{fragment} in {target}"
