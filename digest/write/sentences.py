"""Splitting source text into sentences a writer can quote."""

from __future__ import annotations

import re

_CLOSE_QUOTES = '"\u201d\u2019)'
_OPEN_QUOTES = '"\u201c\u2018('
_BOUNDARY = re.compile(rf"(?<=[.!?])[{_CLOSE_QUOTES}]?\s+(?=[A-Z0-9{_OPEN_QUOTES}])")
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


def quotable(sentence: str) -> bool:
    """Whether a sentence can stand alone in a newsletter: long enough, a statement, complete."""
    return (
        MIN_CHARS <= len(sentence) <= MAX_CHARS
        and (sentence[0].isupper() or sentence[0].isdigit() or sentence[0] in _OPEN_QUOTES)
        and sentence.rstrip(_CLOSE_QUOTES).endswith((".", "!"))
    )
