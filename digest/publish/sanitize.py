"""The allowlist (nh3) every fragment carrying source or LLM text passes before it is published."""

from __future__ import annotations

import nh3
from markupsafe import Markup

# Only what the packaged templates write around source text; anything else is dropped.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "article", "b", "blockquote", "br", "code", "details", "div", "em", "h1",
        "h2", "h3", "h4", "header", "i", "li", "nav", "ol", "p", "section", "small", "span",
        "strong", "summary", "sup", "time", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "lang", "title"},
    "a": {"href"},
    "li": {"value"},
    "nav": {"aria-label"},
    "ol": {"reversed", "start"},
    "section": {"aria-labelledby"},
    "time": {"datetime"},
}
# Links may point to the web, to a mailbox, or within the site; never javascript: or data:.
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Email carries its CSS inline (css-inline puts it there); only these properties survive.
EMAIL_STYLE_PROPERTIES = frozenset(
    {
        "background", "background-color", "border", "border-bottom", "border-top", "color",
        "display", "font-family", "font-size", "font-weight", "letter-spacing", "line-height",
        "margin", "max-height", "max-width", "mso-hide", "opacity", "overflow", "overflow-wrap",
        "padding", "padding-left", "padding-top", "text-decoration", "text-transform",
        "word-break",
    }
)  # fmt: skip


def clean_html(fragment: str, keep_style: bool = False) -> Markup:
    """The fragment with every tag, attribute and link scheme outside the allowlist removed.

    Script and style elements go with their content; links get rel="noopener noreferrer".
    With keep_style (email), style attributes stay but hold only EMAIL_STYLE_PROPERTIES.
    """
    attributes = {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}
    if keep_style:
        attributes["*"].add("style")
    cleaned = nh3.clean(
        str(fragment),
        tags=set(ALLOWED_TAGS),
        attributes=attributes,
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        filter_style_properties=set(EMAIL_STYLE_PROPERTIES) if keep_style else None,
    )
    return Markup(cleaned)
