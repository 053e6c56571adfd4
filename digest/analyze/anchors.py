"""Entity anchors: the rare names, pages and ids that two reports of one event share."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from digest.models import Article
from digest.urls import canonical_url

# Words are split on these; '.' and '+' stay inside a word ("llama.cpp", "gpt-4.1" keeps "4.1").
_SPLIT = re.compile(r"[\s/_\-|:,;()\[\]{}<>\"'!?*`=~#@^\u201c\u201d\u2018\u2019«»·…\u2014\u2013]+")
_DIGIT = re.compile(r"\d")
# A name with its version or size ("kimik2", "grok4", "exaone4.0"): letters, then a digit.
_VERSIONED = re.compile(r"[a-z][a-z.+]*\d[a-z0-9.+]*")
_URL = re.compile(r"https?://[^\s)\]>\"']+")
_ID_LINK = re.compile(
    r"https?://(?:www\.)?(huggingface\.co|github\.com)/([\w.-]+)/([\w.-]+)(/pull/\d+)?", re.I
)
_STATUS_LINK = re.compile(r"https?://(?:www\.)?(?:x|twitter)\.com/\w+/status/(\d+)", re.I)
# A name in running text: has a capital after its first letter (SmolLM3, ERNIE, MoE), or a
# digit and a letter (K2, 235B), or starts with a capital in mid-sentence (Kimi, Grok).
_NAME_IN_TEXT = re.compile(r"[A-Za-z]*[A-Z][A-Za-z0-9.+]*|[A-Za-z0-9.+]*\d[A-Za-z0-9.+]*")
# A bare number or size ("2025", "16gb", "7b", "1.2b") says how big, not what: it anchors
# only joined to the name before it ("exaone4.0", "qwen3235b").
_BARE_SIZE = re.compile(r"\d[\d.,]*(?:[kmbt]|gb|tb|mb|x|k\+)?")
# Linked pages are anchors too (LINK + canonical URL); media and discussion pages are not.
LINK = "link:"
_MEDIA = re.compile(
    r"://(?:[\w-]+\.)?(?:redd\.it|reddit\.com|youtube\.com|youtu\.be|imgur\.com|"
    r"news\.ycombinator\.com)(?:/|$)|\.(?:png|jpe?g|gif|webp|mp4)(?:\?|$)",
    re.I,
)
# How much of the summary is read for names: the lede the embedder reads too.
LEDE_CHARS = 300
# An anchor is a name at least this rare in the batch (IDF, natural log: one article in 20).
# A small batch (a first crawl) has few: its counts cannot tell a name from a common word.
ANCHOR_IDF = 3.0
# Below this many articles, counts cannot tell a name from a common word: no anchors at all
# (the sample week, 101 articles, merged distinct events on shared ordinary words).
MIN_BATCH = 200
# A name shared by more articles than this in one batch is a topic, not an event.
MAX_POSTINGS = 120
# An event's name comes in a burst; a topic's ("VRAM", "Ollama", "RTX") is spread out. A name
# on at least BURST_MIN articles anchors only if at least BURST_SHARE of them fall within one
# BURST_SECONDS stretch.
BURST_MIN = 6
BURST_SHARE = 0.25
BURST_SECONDS = 2 * 86400.0
# A plain word (an organisation's name: a lab, an investor, a city) is carried by several
# events of one week, so it must come in a tighter burst: at least WORD_BURST_SHARE within one
# day, from WORD_BURST_MIN articles on. A versioned name ("kimik2", "grok4") or a linked page
# names one thing and keeps the looser test. With the looser test for all, a lab's name joined
# distinct events of one week (the synthetic week's story F1 fell from 0.86 to 0.34).
WORD_BURST_MIN = 12
WORD_BURST_SHARE = 0.5
WORD_BURST_SECONDS = 86400.0


@functools.lru_cache(maxsize=1 << 17)
def canonical_page(link: str) -> str:
    """A link's canonical URL, or "" when it is none (each link is worked out once: the same
    page key is wanted for same-page groups and for anchors)."""
    try:
        return canonical_url(link)
    except ValueError:
        return ""


def _page(link: str | None) -> str:
    return canonical_page(link.rstrip(".,")) if link else ""


def links(anchors: dict[str, float]) -> set[str]:
    """The anchors that are pages or ids an article links: shared, they name one thing."""
    return {w for w in anchors if w.startswith((LINK, "x/", "huggingface.co/", "github.com/"))}


def split_words(text: str) -> list[str]:
    """Lower-cased words, split on spaces and punctuation but not on "." or "+"."""
    return [w for w in (c.strip(".").lower() for c in _SPLIT.split(text)) if w]


def _joined(words: Sequence[str]) -> set[str]:
    """'grok 4' -> 'grok4', 'kimi k2' -> 'kimik2': a name and the version or size after it."""
    stop = _stop_words()
    return {
        p + q
        for p, q in itertools.pairwise(words)
        if len(q) <= 8 and _DIGIT.search(q) and not p.isdigit() and p not in stop
    }


def versioned_names(words: Sequence[str]) -> set[str]:
    """The names with a version or size among `words` and their joins ("granite4.0", "qwen3"),
    not bare sizes ("1t")."""
    return {
        w
        for w in set(words) | _joined(words)
        if _VERSIONED.fullmatch(w) and not _BARE_SIZE.fullmatch(w)
    }


# A brand written with a capital after a small letter ("ChatGPT", "OpenAI"; not "AI", "LLM").
_BRAND = re.compile(r"[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*")


def _brand_pairs(title: str) -> set[str]:
    """A brand and the word after it ("chatgpt agent"): a product named with a common word."""
    stop = _stop_words()
    words = [w for w in _SPLIT.split(title) if len(w.strip(".")) > 1]
    return {
        f"{p.lower()} {q.lower()}"
        for p, q in itertools.pairwise(words)
        if _BRAND.fullmatch(p) and q.isalpha() and q.lower() not in stop
    }


def names(article: Article) -> frozenset[str]:
    """Every candidate anchor of an article: its title's words (and name+version joins), the
    names in its lede, and the Hugging Face, GitHub and X/Twitter ids it links."""
    title = split_words(article.title)
    lede = _URL.sub(" ", article.summary[:LEDE_CHARS])
    named = [w for m in _NAME_IN_TEXT.findall(lede) for w in split_words(m)]
    found = set(title) | _joined(title) | set(named) | _joined(split_words(lede))
    found |= _brand_pairs(article.title)
    # The article's own page is not among them: same-page groups already hold it.
    for link in _URL.findall(article.summary[: 3 * LEDE_CHARS]):
        if (page := _page(link)) and not _MEDIA.search(page):
            found.add(f"{LINK}{page}")
    for link in [article.url, *_URL.findall(article.summary[: 3 * LEDE_CHARS])]:
        if m := _ID_LINK.match(link or ""):
            found.add(f"{m[1]}/{m[2]}/{m[3]}{m[4] or ''}".lower())
            found.update(split_words(m[3]))
        elif m := _STATUS_LINK.match(link or ""):
            found.add(f"x/{m[1]}")
    stop = _stop_words()
    return frozenset(
        w for w in found if len(w) > 1 and w not in stop and not _BARE_SIZE.fullmatch(w)
    )


@functools.cache
def _stop_words() -> frozenset[str]:
    # scikit-learn is imported where it is used: its import costs every process ~2 s.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _bursty(times: np.ndarray, name: str) -> bool:
    if _VERSIONED.fullmatch(name) or name in links({name: 0.0}):
        least, share, seconds = BURST_MIN, BURST_SHARE, BURST_SECONDS
    else:
        least, share, seconds = WORD_BURST_MIN, WORD_BURST_SHARE, WORD_BURST_SECONDS
    if len(times) < least:
        return True
    ordered = np.sort(times)
    within = np.searchsorted(ordered, ordered + seconds, side="right")
    return bool((within - np.arange(len(ordered))).max() >= share * len(ordered))


def rare_anchors(articles: Sequence[Article], times: np.ndarray) -> list[dict[str, float]]:
    """Each article's anchors with their weight (IDF over the batch): the candidate names
    that at least two articles share, at most one in twenty carries, and that come
    in a burst (`times` are the articles' publication times, in seconds)."""
    if len(articles) < MIN_BATCH:
        return [{} for _ in articles]
    found = [names(a) for a in articles]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(found):
        for w in words:
            postings[w].append(i)
    total = len(articles)
    weight = {
        w: idf
        for w, items in postings.items()
        if 2 <= len(items) <= MAX_POSTINGS
        and (idf := math.log(total / len(items))) >= ANCHOR_IDF
        and _bursty(times[items], w)
    }
    return [{w: weight[w] for w in words if w in weight} for words in found]
