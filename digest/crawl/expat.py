"""The runtime's expat, and the documents an expat before 2.6 would parse in quadratic time."""

from __future__ import annotations

import pyexpat
import re

from digest.crawl.http import Fetched
from digest.errors import FeedError

EXPAT = pyexpat.version_info
# Before 2.6, expat parses a token that spans several of the chunks it is fed (feedparser
# feeds 64 KiB at a time) again from its start with each chunk: a 9 MiB attribute costs
# ~150 passes over up to 9 MiB. Tokens up to this size cost a few milliseconds at most.
MAX_TOKEN = 1 << 20
REPARSES_LARGE_TOKENS = EXPAT < (2, 6, 0)

# From a "<": a tag's name and attributes, quoted values (which may hold ">" but never "<")
# read whole; possessive, so a failed match never backtracks.
_TAG = re.compile(rb"[^<>\"']*+(?:(?:\"[^\"<]*+\"?|'[^'<]*+'?)[^<>\"']*+)*+>?")
_LONG_RUN = re.compile(rb"<[^<]{%d}" % MAX_TOKEN)  # no "<" for MAX_TOKEN bytes after one
_COMMENT_OR_PI = re.compile(rb"<!--|<\?")


def slow_expat_notice() -> str | None:
    """What to tell the user at start when this Python's expat reparses large tokens."""
    if not REPARSES_LARGE_TOKENS:
        return None
    version = ".".join(map(str, EXPAT))
    return (
        f"this Python's XML parser is expat {version}, older than 2.6, which parses very "
        f"large XML tokens in quadratic time: a feed holding a tag, attribute or comment over "
        f"{MAX_TOKEN >> 20} MiB is refused; a Python built with expat 2.6 or newer reads it"
    )


def refuse_huge_tokens(fetched: Fetched) -> None:
    """FeedError when expat would parse the document in quadratic time (before 2.6)."""
    if not REPARSES_LARGE_TOKENS or len(fetched.body) <= MAX_TOKEN:
        return
    size = longest_token(fetched.body)
    if size > MAX_TOKEN:
        raise FeedError(
            f"{fetched.url} holds one XML tag, attribute or comment of {size / 2**20:.1f} MiB, "
            f"which this Python's expat {'.'.join(map(str, EXPAT))} would parse in quadratic "
            "time, so it was not read; run digest on a Python with expat 2.6 or newer"
        )


def longest_token(body: bytes) -> int:
    """The length of the longest tag, comment or processing instruction in `body`, when it
    is over MAX_TOKEN (a shorter tag is not measured).

    Character data and CDATA sections are no single token (expat hands them over in
    pieces), so only markup is measured: a tag holds no "<", so a long one starts a run of
    MAX_TOKEN bytes without one, and only those runs are read closely.
    """
    longest = 0
    for run in _LONG_RUN.finditer(body):
        start = run.start()
        if body.startswith(b"<![CDATA[", start):
            continue
        match = _TAG.match(body, start + 1)
        assert match is not None  # the pattern matches the empty string
        longest = max(longest, match.end() - start)
    for opener in _COMMENT_OR_PI.finditer(body):
        close = b"-->" if opener[0] == b"<!--" else b"?>"
        end = body.find(close, opener.end())
        longest = max(longest, (len(body) if end == -1 else end + len(close)) - opener.start())
    return longest
