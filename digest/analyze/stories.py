"""Same-event grouping: new articles join a recent story or start one, with a stable id."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from digest.analyze.anchors import canonical_page, links, rare_anchors
from digest.analyze.density import adaptive_threshold, corpus_density, dense_cores, denseness
from digest.analyze.events import named_versions, version_stem
from digest.analyze.linkage import agglomerate, neighbour_pairs
from digest.analyze.retold import repost_pairs, teaser_pairs
from digest.models import Article

# Tokens that pin an event down: model names with versions, sizes, money, percentages.
_SPECIFIC = re.compile(
    r"\b(?=[\w.$%-]*\d)[A-Za-z$][\w.$%-]*\d[\w.%-]*|\$?\d[\d.,]*\s?(?:%|[BMK]\b)"
)
SPECIFIC_BONUS = 0.06
SPECIFIC_PENALTY = 0.08
# The product a title is about, named at a version that is not a size ("Grok 3", "Day 7", not
# "SmolLM-3B"), is marked among its tokens: a story naming it at one version takes no article
# naming it only at another ("Grok 3 should be open-sourced" is not Grok 4's launch).
VERSION_MARK = "~"
_SIZE = re.compile(r"\d+(?:\.\d+)?(?:[bmk]|gb)$")
# Words a number follows in a series, not a product's name ("Day 7/50", "Part 2", "Top 10").
_SERIAL = frozenset(
    [
        "day",
        "week",
        "month",
        "part",
        "episode",
        "chapter",
        "step",
        "phase",
        "round",
        "season",
        "level",
        "lesson",
        "top",
        "article",
        "section",
        "volume",
        "issue",
    ]
)
CLASH = 1.0  # taken off a clashing pair's link: no threshold is reached after it
# Candidate pairs are looked for this far below the threshold (a shared token may lift them).
CANDIDATE_MARGIN = 0.1
# Discussion pages (a thread *about* a link) are not the link; their URLs say nothing.
_DISCUSSION_HOSTS = ("news.ycombinator.com", "reddit.com/r/", "lobste.rs/s/")


# Shared rare names (digest.analyze.anchors) lift a pair's link by this much per unit of their
# summed IDF, up to the cap, between articles within ANCHOR_WINDOW of each other. A pair whose
# cosine plus that lift reaches the threshold plus STRONG_MARGIN starts a story together, as
# two articles linking one rare page or id within the window do. Two clusters whose first
# reports are further apart than ANCHOR_WINDOW merge only at a mean cosine of LONG_COSINE.
# Measured on the dev split's same-event labels: docs/stories.md.
ANCHOR_SCALE = 0.04
ANCHOR_CAP = 0.45
ANCHOR_WINDOW = timedelta(days=2)
STRONG_MARGIN = 0.15
LONG_COSINE = 0.7
ANCHORED_RAISE = 0.06
# Two articles further apart than ANCHOR_WINDOW (within the story window) that share at least
# FAR_NAMES rare names and reach the threshold by cosine alone start a story together: one
# announcement told again days later ("Swiss Open LLM": EPFL, ETH Zurich, CSCS, ...).
FAR_NAMES = 5


def anchor_bonus(
    articles: Sequence[Article],
    weights: Sequence[dict[str, float]],
    times: np.ndarray,
    scale: float = 1.0,
) -> dict[tuple[int, int], float]:
    """Per pair of articles within ANCHOR_WINDOW that share rare names (`weights`: each
    article's anchors and their IDF): the lift to their link, times `scale`. In a dense
    aggregator corpus (UCI News) neighbouring stories share names ("Malaysia", "Fed"), so
    there the scale is 0 (UCI test BCubed F1 0.877 with it, 0.888 without)."""
    if scale <= 0:
        return {}
    shared = _shared_names(weights, times, -1.0, ANCHOR_WINDOW.total_seconds())
    return {
        (i, j): scale * min(ANCHOR_CAP, ANCHOR_SCALE * sum(weights[i][w] for w in _once(words)))
        for (i, j), words in shared.items()
    }


def _shared_names(
    weights: Sequence[dict[str, float]], times: np.ndarray, near: float, far: float
) -> dict[tuple[int, int], set[str]]:
    """The names each pair of articles more than `near` and at most `far` seconds apart shares."""
    postings: dict[str, list[int]] = {}
    for i, words in enumerate(weights):
        for w in words:
            postings.setdefault(w, []).append(i)
    shared: dict[tuple[int, int], set[str]] = {}
    for w, items in postings.items():
        for x, i in enumerate(items):
            for j in items[x + 1 :]:
                if near < abs(times[i] - times[j]) <= far:
                    shared.setdefault((min(i, j), max(i, j)), set()).add(w)
    return shared


def _once(words: set[str]) -> set[str]:
    """Shared names, a name counted once: "grok" goes when "grok4" is shared too."""
    return {
        w
        for w in words
        if not any(v != w and v.startswith(w) and v[len(w)].isdigit() for v in words)
    }


def far_pairs(
    weights: Sequence[dict[str, float]],
    times: np.ndarray,
    vectors: np.ndarray,
    floor: float,
    window: float,
) -> list[tuple[int, int]]:
    """Pairs more than ANCHOR_WINDOW and at most `window` seconds apart that share FAR_NAMES
    or more rare names (a name and its version counted once) at a cosine of `floor` or more."""
    # Only an article with FAR_NAMES names or more can share that many.
    rich = [w if len(w) >= FAR_NAMES else {} for w in weights]
    shared = _shared_names(rich, times, ANCHOR_WINDOW.total_seconds(), window)
    return [
        (i, j)
        for (i, j), words in sorted(shared.items())
        if len(_once(words)) >= FAR_NAMES and float(vectors[i] @ vectors[j]) >= floor
    ]


def specific_tokens(text: str) -> frozenset[str]:
    """Tokens like 'Qwen3.5-Coder-480B', 'GPT-5', 'H200' or '40%' that tell events apart."""
    return frozenset(t.lower().strip(".,-") for t in _SPECIFIC.findall(text))


def version_marks(title: str) -> frozenset[str]:
    """The product the title is about at its version, marked ("~grok4"): the first it names
    ("Kimi K2 outperforms GPT-4" is Kimi K2's news); a size or a post's place in a series
    ("Day 7/50") is no version."""
    first = next(iter(named_versions(title)), "")
    if not first or _SIZE.search(first) or version_stem(first) in _SERIAL:
        return frozenset()
    return frozenset({VERSION_MARK + first})


def clashing(ours: frozenset[str], theirs: frozenset[str]) -> bool:
    """Whether, by their `version_marks`, one side names a product only at a version the
    other does not name, and the other names it only at another."""
    if not ours or not theirs:
        return False
    stems = {version_stem(x) for x in ours - theirs}
    return any(version_stem(y) in stems for y in theirs - ours)


def _marked(tokens: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The version marks among an article's tokens, and its specific tokens."""
    marks = frozenset(x for x in tokens if x[0] == VERSION_MARK)
    return marks, tokens - marks if marks else tokens


def token_adjustment(a: frozenset[str], b: frozenset[str]) -> float:
    """A shared specific token lifts the link; two disjoint sets of them lower it; a product
    named at clashing versions keeps them apart."""
    if not a or not b:
        return 0.0
    (marks_a, a), (marks_b, b) = _marked(a), _marked(b)
    if clashing(marks_a, marks_b):
        return -CLASH
    if not a or not b:
        return 0.0
    return SPECIFIC_BONUS if a & b else -SPECIFIC_PENALTY


def url_key(url: str) -> str:
    """The page an article links, as two reports of it write it: its canonical URL (https,
    bare host, no tracking parameters or fragment; query parameters that name the page, as
    in `article.aspx?id=1`, are kept). Empty for a discussion page or a missing URL."""
    if not url or any(host in url for host in _DISCUSSION_HOSTS):
        return ""
    return canonical_page(url)


def story_id_for(first: Article) -> str:
    """A story is named after the article that started it, so its id never changes."""
    return f"s-{first.id}"


@dataclass(frozen=True)
class Grouping:
    """Where each new article went, and which stories it started."""

    assignments: dict[str, str]
    started: dict[str, Article]


def group_stories(
    new: Sequence[Article],
    new_vectors: np.ndarray,
    known: Sequence[tuple[str, Sequence[Article], np.ndarray]],
    threshold: float,
    window: timedelta,
) -> Grouping:
    """Group new articles into stories: the known ones (kept whole) or new ones.

    `known` holds the stories already in the store: (story id, its articles, their vectors).
    Articles linking the same page go together first, then those within two days that link
    one rare page or id or whose cosine plus shared rare names link them strongly (each join
    on a name most of both sides carry, so stories do not chain); then clusters merge, best
    pair first, while their mean cosine, lifted by the names their articles share and adjusted
    for shared or clashing specific tokens, reaches `threshold`, their articles are within
    `window` of each other and their first reports within two days (or their cosine high).
    In a dense corpus the threshold is lower, names lift nothing, and new articles start from
    communities of their neighbour graph (see digest.analyze.density). Two stored stories are
    never merged, and a stored article never moves, so ids stay stable across runs and weeks.
    """
    old = [a for _, arts, _ in known for a in arts]
    articles = [*old, *new]
    if not new:
        return Grouping({}, {})
    vectors = np.vstack([*(v for _, _, v in known), new_vectors]).astype(np.float32)
    times = np.array([a.published_at.timestamp() for a in articles], dtype=np.float64)
    tokens = [specific_tokens(f"{a.title} {a.summary}") | version_marks(a.title) for a in articles]
    seconds = window.total_seconds()
    density = corpus_density(vectors, times, seconds)
    anchored = rare_anchors(articles, times)
    scale = 1.0 - denseness(density)
    bonus = anchor_bonus(articles, anchored, times, scale)
    far = far_pairs(anchored, times, vectors, threshold, seconds) if scale > 0 else []
    initial = _join_linked(
        _initial_clusters(known, articles, len(old)),
        anchored,
        times,
        tokens,
        _strong_pairs(vectors, bonus, threshold + ANCHORED_RAISE + STRONG_MARGIN) + far,
        [*teaser_pairs(articles, times), *repost_pairs(articles, times, seconds)],
    )
    if any(anchored):
        # Where names can be counted, cosine alone must be higher: they carry the weak links.
        threshold += ANCHORED_RAISE
    threshold = adaptive_threshold(threshold, density)
    pairs = neighbour_pairs(vectors, times, threshold - SPECIFIC_BONUS - CANDIDATE_MARGIN, seconds)
    free = [members for members, story in initial if story is None]
    initial = [(m, s) for m, s in initial if s is not None] + [
        (members, None) for members in dense_cores(vectors, pairs, free, density)
    ]
    clusters = agglomerate(
        vectors,
        pairs,
        threshold,
        tokens,
        token_adjustment,
        initial=[members for members, _ in initial],
        frozen=[story is not None for _, story in initial],
        bonus=bonus,
        times=times,
        span=ANCHOR_WINDOW.total_seconds(),
        span_cosine=LONG_COSINE,
    )
    story_of_old = {i: sid for (members, sid) in initial if sid for i in members}
    assignments: dict[str, str] = {}
    started: dict[str, Article] = {}
    for members in clusters:
        story = next((story_of_old[i] for i in members if i in story_of_old), None)
        fresh = [articles[i] for i in members if i >= len(old)]
        if not fresh:
            continue
        if story is None:
            first = min(fresh, key=lambda a: (a.published_at, a.id))
            story = story_id_for(first)
            started[story] = first
        for article in fresh:
            assignments[article.id] = story
    return Grouping(assignments, started)


def _initial_clusters(
    known: Sequence[tuple[str, Sequence[Article], np.ndarray]],
    articles: Sequence[Article],
    old: int,
) -> list[tuple[list[int], str | None]]:
    """Stored stories, each with the new articles that link one of its pages, then groups of
    new articles that link the same page."""
    clusters: list[tuple[list[int], str | None]] = []
    page: dict[str, int] = {}
    start = 0
    for story_id, arts, _ in known:
        members = list(range(start, start + len(arts)))
        start += len(arts)
        for i in members:
            page.setdefault(url_key(articles[i].url), len(clusters))
        clusters.append((members, story_id))
    page.pop("", None)
    for i in range(old, len(articles)):
        key = url_key(articles[i].url)
        if key and key in page:
            clusters[page[key]][0].append(i)
        else:
            if key:
                page[key] = len(clusters)
            clusters.append(([i], None))
    return clusters


def _strong_pairs(
    vectors: np.ndarray, bonus: dict[tuple[int, int], float], floor: float
) -> list[tuple[int, int]]:
    """Pairs whose cosine plus a positive anchor bonus reaches `floor`, strongest first."""
    scored = [(float(vectors[i] @ vectors[j]) + x, i, j) for (i, j), x in bonus.items() if x > 0]
    return [(i, j) for score, i, j in sorted(scored, reverse=True) if score >= floor]


def _join_linked(
    initial: list[tuple[list[int], str | None]],
    anchors: Sequence[dict[str, float]],
    times: np.ndarray,
    tokens: Sequence[frozenset[str]],
    strong: Sequence[tuple[int, int]] = (),
    retold: Sequence[tuple[int, int]] = (),
) -> list[tuple[list[int], str | None]]:
    """Starting clusters joined when articles within ANCHOR_WINDOW link one rare page or id
    (a model's Hugging Face page, a post on X, a pull request), then `strong` pairs, then
    `retold` pairs (a teaser and the release it announced, a title posted again: see
    digest.analyze.retold), whatever names they share; two stored stories never, nor two
    whose titles name a product at clashing versions (`tokens`: see `clashing`)."""
    owner = {i: c for c, (members, _) in enumerate(initial) for i in members}
    parent = list(range(len(initial)))
    story = [sid for _, sid in initial]

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    # Each component's anchor counts, made when a join first needs them.
    names: dict[int, Counter[str]] = {}
    size = [len(members) for members, _ in initial]
    marks = [frozenset().union(*(_marked(tokens[i])[0] for i in members)) for members, _ in initial]

    def counts(c: int) -> Counter[str]:
        if c not in names:
            names[c] = Counter(w for i in initial[c][0] for w in anchors[i])
        return names[c]

    def core(c: int, shared: set[str]) -> bool:
        if size[c] == 1:
            return bool(shared)
        return any(2 * counts(c)[w] >= size[c] for w in shared)

    def join(i: int, j: int, forced: bool = False) -> None:
        a, b = root(owner[i]), root(owner[j])
        shared = anchors[i].keys() & anchors[j].keys()
        if a == b or (story[a] and story[b]):
            return
        if not forced and not (core(a, shared) and core(b, shared)):
            return
        if not forced and clashing(marks[a], marks[b]):
            return
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        story[a] = story[a] or story[b]
        counts(a).update(counts(b))
        size[a] += size[b]
        marks[a] |= marks[b]

    seen: dict[str, list[int]] = {}
    window = ANCHOR_WINDOW.total_seconds()
    for i, words in enumerate(anchors):
        for w in links(words):
            for j in seen.setdefault(w, []):
                if abs(times[i] - times[j]) <= window:
                    join(i, j)
            seen[w].append(i)
    for i, j in strong:
        join(i, j)
    for i, j in retold:
        join(i, j, forced=True)
    joined: dict[int, list[int]] = {}
    for c, (members, _) in enumerate(initial):
        joined.setdefault(root(c), []).extend(members)
    return [(members, story[c]) for c, members in joined.items()]
