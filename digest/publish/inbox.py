"""What a reader sees of an issue's email in the inbox: a short subject and a preheader."""

from __future__ import annotations

from digest.models import Issue
from digest.publish.render import strip_control

# Longer subjects are cut by most mail programs (phones show about 40 characters).
SUBJECT_LIMIT = 70
# The preview line after the subject; mail programs show 40 to 140 characters of it.
PREHEADER_LIMIT = 140
_TRAILING = " ,;:-\u2013\u2014\u00b7"


def fit(text: str, limit: int) -> str:
    """The text on one line, cut at a word boundary with an ellipsis when longer than limit."""
    line = " ".join(strip_control(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(_TRAILING) + "\u2026"


def subject_line(issue: Issue) -> str:
    """The email's subject: the issue's title (which names its top story), cut to fit; when
    the cut loses the name the lead section goes by ("Week 28: xAI has just announced its
    smartest AI models to date: Grok..."), that name leads the headline ("Week 28: Grok 4 -
    xAI has just announced ...")."""
    subject = fit(issue.title, SUBJECT_LIMIT)
    name = issue.sections[0].theme.name if issue.sections else ""
    week, _, headline = issue.title.partition(": ")
    if not name or not headline or name in subject or name not in headline:
        return subject
    return fit(f"{week}: {name} \u2013 {headline}", SUBJECT_LIMIT)


def preheader(issue: Issue) -> str:
    """The inbox preview line: the issue's intro, cut to fit."""
    return fit(issue.intro, PREHEADER_LIMIT)
