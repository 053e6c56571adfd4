"""An article page's main text, with trafilatura, and whether it is the full text or a blurb."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace

import trafilatura
from bs4.dammit import EncodingDetector

from digest.allowance import Origin
from digest.crawl.http import Fetcher
from digest.crawl.robots import RobotsRules
from digest.crawl.text import collapse_whitespace
from digest.errors import FetchError
from digest.models import Article

FULL_TEXT_MIN = 600  # characters: less is a teaser, not an article
_WALL = re.compile(
    r"subscribe (?:now )?to (?:continue|read|keep reading)|to continue reading|"
    r"already a subscriber|subscribers only|for subscribers|sign in to (?:read|continue)|"
    r"create a free account to|enable javascript|javascript is (?:disabled|required)|"
    r"requires javascript|please enable cookies|we value your privacy|accept (?:all )?cookies|"
    r"cookie (?:consent|settings)|before you continue|verify you are human|are you a robot",
    re.IGNORECASE,
)
_HTML = ("text/html", "application/xhtml+xml", "")


@dataclass(frozen=True)
class PageText:
    """What an article page gave: its status (full, blurb, failed) and its text."""

    status: str
    text: str = ""
    title: str = ""
    author: str = ""
    reason: str = ""  # for failed and blurb: why


def classify(html: str, url: str) -> PageText:
    """The main text of an HTML page, and whether it is the whole article."""
    try:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_tables=False)
    except Exception as exc:  # trafilatura on hostile markup: a failed page, never a crash
        return PageText("failed", reason=f"could not be read ({type(exc).__name__})")
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        return PageText("failed", reason="no article text found in the page")
    title = collapse_whitespace(getattr(doc, "title", None) or "")
    author = collapse_whitespace(getattr(doc, "author", None) or "")
    if len(text) < FULL_TEXT_MIN:
        wall = _WALL.search(text)
        reason = f"a wall ({wall.group(0)!r})" if wall else "only a short text"
        return PageText("blurb", text, title, author, reason)
    if len(text) < 3 * FULL_TEXT_MIN and (wall := _WALL.search(text)):
        return PageText("blurb", text, title, author, f"a wall ({wall.group(0)!r})")
    return PageText("full", text, title, author)


async def page_text(
    fetcher: Fetcher, robots: RobotsRules, url: str, permit: Origin | None
) -> PageText:
    """Fetch an article page (when robots.txt allows) and classify its text."""
    try:
        if not await robots.allowed(url, permit):
            return PageText("failed", reason="robots.txt disallows fetching it")
        fetched = await fetcher.get(url, permit=permit)
    except FetchError as exc:
        return PageText("failed", reason=str(exc))
    kind, _, params = fetched.content_type.partition(";")
    kind = kind.strip().lower()
    if kind not in _HTML:
        return PageText("failed", reason=f"it is {kind}, not a web page")
    return await asyncio.to_thread(_classify_page, fetched.body, params, fetched.url)


def _classify_page(body: bytes, params: str, url: str) -> PageText:
    # Text, not bytes, goes to trafilatura: given bytes, it tries to decompress them itself,
    # up to 20 MB each whatever crawl.max_bytes says. The fetcher has undone Content-Encoding
    # (and gzip or zstd by their magic numbers) within crawl.max_bytes.
    return classify(_decoded(body, params), url)


def _decoded(body: bytes, params: str) -> str:
    """The page's text: in the HTTP charset, else its meta charset, else a guess."""
    charsets = [
        value.strip().strip("\"'")
        for name, _, value in (p.partition("=") for p in params.split(";"))
        if name.strip().lower() == "charset"
    ]
    detector = EncodingDetector(body, known_definite_encodings=charsets, is_html=True)
    for encoding in detector.encodings:
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", errors="replace")


async def with_full_text(
    fetcher: Fetcher, robots: RobotsRules, articles: list[Article], permit: Origin | None
) -> list[Article]:
    """The articles with their page's text and text status filled in; `permit` is the
    private origin of the source they came from, if crawl.allowed_hosts opens it."""
    pages = await asyncio.gather(*(page_text(fetcher, robots, a.url, permit) for a in articles))
    return [
        replace(a, text_status=p.status, full_text=p.text, author=a.author or p.author)
        for a, p in zip(articles, pages, strict=True)
    ]
