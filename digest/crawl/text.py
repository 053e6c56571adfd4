"""Plain text from the HTML fragments feeds put in titles and summaries."""

from __future__ import annotations

import re
import warnings

import lxml.html
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from lxml import etree

_INVISIBLE = ("script", "style", "noscript", "template", "iframe", "object", "svg")
_BLOCKS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)  # fmt: skip
_SPACES = re.compile(r"\s+")
# Marks our own line breaks, so newlines in the source count as plain spaces like in a browser.
_BREAK = "\ue000"
_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: one line per paragraph, whitespace collapsed."""
    if "<" not in html and "&" not in html:
        return collapse_whitespace(html)
    try:
        text = _lxml_text(html)
    except (etree.LxmlError, ValueError):
        # lxml refuses some strings (control characters, nothing but markup it drops);
        # bs4 is ~10 times slower but reads anything.
        text = _bs4_text(html)
    lines = (collapse_whitespace(line) for line in text.split(_BREAK))
    return "\n".join(line for line in lines if line)


def _lxml_text(html: str) -> str:
    root = lxml.html.fragment_fromstring(html, create_parent="div", parser=_PARSER)
    for element in list(root.iter(*_INVISIBLE)):
        element.drop_tree()  # keeps the text after it
    for br in root.iter("br"):
        br.tail = _BREAK + (br.tail or "")
    for block in root.iter(*_BLOCKS):
        block.text = _BREAK + (block.text or "")
        block.tail = _BREAK + (block.tail or "")
    return str(root.text_content())


def _bs4_text(html: str) -> str:
    with warnings.catch_warnings():
        # A title such as "example.com" is text, not the file name bs4 suspects.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for element in soup(_INVISIBLE):
        element.decompose()
    for br in soup("br"):
        br.replace_with(_BREAK)
    for block in soup(_BLOCKS):
        block.insert_before(_BREAK)
        block.insert_after(_BREAK)
    return str(soup.get_text())


def one_line(html: str) -> str:
    """Visible text of an HTML fragment on a single line, as titles need."""
    return collapse_whitespace(html_to_text(html))


def collapse_whitespace(text: str) -> str:
    """`text` with every run of whitespace turned into one space, ends trimmed."""
    return _SPACES.sub(" ", text).strip()


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if not text[limit - 1].isspace() and space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,;:.") + "…"
