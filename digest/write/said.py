""" "What people said": one or two sentences quoted from a story's top comments, each cited."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import zip_longest

from digest.models import Remark
from digest.write.injection import carries_instructions
from digest.write.sentences import normalise, quotable, source_sentences, standalone

MAX_REMARKS = 2
MAX_CHARS = 240  # a quote longer than this is a paragraph, not a remark
_LINKY = re.compile(r"https?://|www\.|\]\(|@\w|/u/|\bu/\w|\br/\w", re.I)
_ASIDE = re.compile(r"^(?:edit|update|source|tl;?dr|eta)\b", re.I)


def what_people_said(
    threads: Sequence[Sequence[Remark]], limit: int = MAX_REMARKS
) -> tuple[Remark, ...]:
    """Up to `limit` sentences from the threads' top comments (each thread's comments best
    first, threads busiest first), taken in turn from the threads, one per comment.

    A comment is untrusted text: only a sentence that stands alone as written (a statement,
    no link, no username, no order to a model, no pronoun leaning on a sentence not shown)
    is quoted, word for word, and cites the thread it came from.
    """
    said: list[Remark] = []
    seen: set[str] = set()
    for rank in zip_longest(*threads):
        for comment in rank:
            if comment is None or len(said) >= limit:
                continue
            sentence = _first_quotable(comment.text)
            if sentence and (key := normalise(sentence)) not in seen:
                seen.add(key)
                said.append(Remark(sentence, comment.thread, comment.place))
    return tuple(said)


def _first_quotable(text: str) -> str:
    for sentence in source_sentences(text):
        if (
            quotable(sentence)
            and len(sentence) <= MAX_CHARS
            and standalone(sentence)
            and not _LINKY.search(sentence)
            and not _ASIDE.match(sentence)
            and not carries_instructions(sentence)
        ):
            return sentence
    return ""


def grounded(remark: Remark, threads: Sequence[Sequence[Remark]]) -> bool:
    """Whether the remark is said, word for word, in a comment of the thread it cites."""
    key = normalise(remark.text)
    return bool(key) and any(
        c.thread == remark.thread and key in normalise(c.text) for t in threads for c in t
    )
