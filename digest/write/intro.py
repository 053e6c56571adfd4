"""What an issue's intro must do: two or three sentences that name the top stories."""

from __future__ import annotations

import re

from digest.write.sentences import split_sentences
from digest.write.style import carries_link, markup_left


def _names_of(headline: str) -> set[str]:
    """The words by which a headline's story is known: names, numbers, versions."""
    words = re.findall(r"[\w][\w.+-]*[\w+]|\w", headline)
    named = {w for w in words[1:] if w[:1].isupper() or any(c.isdigit() for c in w)}
    if words and (any(c.isdigit() for c in words[0]) or any(c.isupper() for c in words[0][1:])):
        named.add(words[0])
    return named or {w for w in words if len(w) > 3}


def intro_faults(intro: str, headlines: list[str]) -> list[str]:
    """What keeps an intro from opening the issue: 2-3 sentences naming the top stories."""
    faults = []
    count = len(split_sentences(intro))
    if not 2 <= count <= 3:
        faults.append(f"{count} sentences, not 2 or 3")
    for head in headlines:
        named = _names_of(head)
        if named and not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", intro) for n in named):
            faults.append(f"does not name the top story {head[:60]!r}")
    if carries_link(intro) or markup_left(intro):
        faults.append("a URL or markup")
    return faults
