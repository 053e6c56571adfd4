"""Splitting source text into sentences a writer can quote."""

from __future__ import annotations

import re

from digest.write.injection import carries_instructions
from digest.write.style import decode, plain_markdown

_CLOSE_QUOTES = '"\u201d\u2019)'
_OPEN_QUOTES = '"\u201c\u2018('
# A sentence may start with a capital, a digit, a quote, or a name like "xAI" or "iPhone".
_BOUNDARY = re.compile(
    rf"(?<=[.!?])[{_CLOSE_QUOTES}]?\s+(?=[A-Z0-9{_OPEN_QUOTES}]|[a-z]{{1,3}}[A-Z])"
)
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Ms|Mrs|Dr|Prof|Inc|Ltd|Corp|vs|etc|e\.g|i\.e|U\.S|St)\.$")
MIN_CHARS = 25
MAX_CHARS = 400


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text, keeping abbreviations such as 'U.S.' or 'Dr.' inside a sentence."""
    parts: list[str] = []
    for piece in _BOUNDARY.split(" ".join(text.split())):
        if parts and _ABBREVIATIONS.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return [p.strip() for p in parts if p.strip()]


# A forum post's greeting before its first sentence ("Hi everyone, Reka just open-sourced ...").
_GREETING = re.compile(
    r"^(?:hi|hey|hello|greetings)(?: (?:all|everyone|everybody|folks|guys|there|r/\w+|\w+))?"
    r"\s*[,!:.-]+\s+",
    re.I,
)


_LIST_START = re.compile(r":\s*1\.$")


def source_sentences(text: str) -> list[str]:
    """Sentences of a source's text as a reader would see them: each line (a paragraph, a
    list item) on its own, entities decoded and markdown marks taken out, a forum post's
    greeting and a list run into a line dropped, and without the sentences that give orders
    to a model (a prompt injection is no source of news)."""
    found: list[str] = []
    for line in text.splitlines():
        said = split_sentences(plain_markdown(decode(line)))
        # A list run into one line ("What it does is: 1. Receive: ... 2. Analyze: ...") splits
        # into pieces that end on the next item's number: none is a sentence.
        said = said[: next((n for n, s in enumerate(said) if _LIST_START.search(s)), len(said))]
        found.extend(_GREETING.sub("", s) for s in said if not carries_instructions(s))
    return found


def quotable(sentence: str) -> bool:
    """Whether a sentence can stand alone in a newsletter: long enough, a statement, complete."""
    return (
        MIN_CHARS <= len(sentence) <= MAX_CHARS
        and (
            sentence[0].isupper()
            or sentence[0].isdigit()
            or sentence[0] in _OPEN_QUOTES
            or re.match(r"[a-z]{1,3}[A-Z]", sentence) is not None
        )
        and sentence.rstrip(_CLOSE_QUOTES).endswith((".", "!"))
    )


# Openings that lean on a sentence we will not show ("It reports...", "This means...").
_DEPENDENT = re.compile(
    r"^(?:It|Its|It's|They|Their|Them|He|She|His|Her|We|Our|I|My|But|And|Also|This|These|"
    r"That|Those|Such|Both|So|Then|However|Meanwhile|Instead|Yet|Or|Here)\b"
)


# "Under the AI Act, that could mean...": a pronoun subject right after a short opening phrase.
_DEPENDENT_CLAUSE = re.compile(r"^[^,]{0,50}, (?:that|this|these|those|it|they|he|she) ")


def standalone(sentence: str) -> bool:
    """Whether a sentence makes sense without the one before it (no leaning pronoun opener)."""
    return not _DEPENDENT.match(sentence) and not _DEPENDENT_CLAUSE.match(sentence)


def normalise(text: str) -> str:
    """The comparison form of a sentence: lowercase words only."""
    return " ".join(re.findall(r"\w+", text.lower()))
