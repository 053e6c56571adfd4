"""Reports of one event whatever their names and cosines say: a teaser, a title posted again."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from digest.analyze.anchors import LEDE_CHARS, names, split_words, versioned_names
from digest.models import Article

# A title that announces what is still to come ("about to release", "imminent", "tonight").
_COMING = re.compile(
    r"\b(?:about to|imminent|tonight|tomorrow|soon|upcoming|incoming|coming|teas(?:e|es|er|ing)"
    r"|on the way)\b",
    re.I,
)
_MODEL_PAGE = re.compile(r"https?://(?:www\.)?huggingface\.co/([\w.-]+)/([\w.-]+)", re.I)
# Hugging Face paths that are not an owner's model.
_NOT_OWNERS = frozenset({"collections", "datasets", "spaces", "papers", "blog", "docs", "learn"})
# A title of at least this many words, posted again, is the same report shared again.
REPOST_WORDS = 5
# A teaser is joined to the first new model of the lab it names published this soon after it.
TEASER_WINDOW = timedelta(days=1)


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def _models(article: Article) -> set[tuple[str, str]]:
    """The (owner, model) pairs of the Hugging Face model pages an article links."""
    found = set()
    for link in [article.url, *re.findall(r"https?://\S+", article.summary[: 3 * LEDE_CHARS])]:
        if (m := _MODEL_PAGE.match(link)) and m[1].lower() not in _NOT_OWNERS:
            found.add((_key(m[1]), m[2].lower()))
    return found


def teaser_pairs(articles: Sequence[Article], times: np.ndarray) -> list[tuple[int, int]]:
    """(teaser, release) pairs: a title announcing what is coming that names a Hugging Face
    owner ("Moonshot AI about to release...", "Imminent release from Qwen tonight"), and the
    first article within TEASER_WINDOW after it that links a model of that owner no earlier
    article linked (the release, not a fine-tune of an old model). A teaser that names a
    version ("the upcoming IBM Granite 4.0") joins only a release that names it too."""
    releases: dict[str, list[int]] = {}
    seen: set[str] = set()
    for i in sorted(range(len(articles)), key=lambda k: times[k]):
        for owner, model in sorted(_models(articles[i])):
            if f"{owner}/{model}" not in seen:
                seen.add(f"{owner}/{model}")
                releases.setdefault(owner, []).append(i)
    window = TEASER_WINDOW.total_seconds()
    pairs = []
    for i, article in enumerate(articles):
        if not _COMING.search(article.title):
            continue
        words = split_words(article.title)
        keys = {_key(w) for w in words} | {_key(p + q) for p, q in itertools.pairwise(words)}
        version = versioned_names(words)
        for owner in sorted(keys & releases.keys()):
            later = [j for j in releases[owner] if 0 < times[j] - times[i] <= window]
            if later:
                first = min(later, key=lambda k: times[k])
                if not version or version & names(articles[first]):
                    pairs.append((i, first))
    return pairs


def repost_pairs(
    articles: Sequence[Article], times: np.ndarray, window: float
) -> list[tuple[int, int]]:
    """Pairs of articles within `window` seconds with one title of at least REPOST_WORDS words
    (case and punctuation aside): one report shared again, on another site or days later ("A
    language model built for the public good" from EPFL and from ETH Zurich). A question is
    not a report: "What is the best model for coding?" is asked again and again."""
    first: dict[str, int] = {}
    pairs = []
    for i in sorted(range(len(articles)), key=lambda k: times[k]):
        words = re.findall(r"[a-z0-9]+", articles[i].title.lower())
        if len(words) < REPOST_WORDS or articles[i].title.rstrip().endswith("?"):
            continue
        key = " ".join(words)
        if key in first and times[i] - times[first[key]] <= window:
            pairs.append((first[key], i))
        else:
            first[key] = i
    return pairs
