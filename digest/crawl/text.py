"""Plain text from the HTML fragments feeds put in titles and summaries."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_INVISIBLE = ("script", "style", "noscript", "template", "iframe", "object", "svg")
_BLOCKS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)  # fmt: skip
_SPACES = re.compile(r"\s+")
# Marks our own line breaks, so newlines in the source count as plain spaces like in a browser.
_BREAK = "\ue000"


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: one line per paragraph, whitespace collapsed."""
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
    lines = (collapse_whitespace(line) for line in soup.get_text().split(_BREAK))
    return "\n".join(line for line in lines if line)


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
