"""Which stories make the issue: news over chatter, by who covers a story, where and how."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

import numpy as np

from digest.analyze.events import named_versions, version_stem
from digest.analyze.kinds import (
    KIND_WEIGHT,
    about_ai,
    news_articles,
    news_of,
    outlet,
    own_site,
    post_kind,
)
from digest.analyze.stories import specific_tokens
from digest.analyze.titles import MIN_HEADLINE_WORDS
from digest.families import PRESS, link_outlet
from digest.models import Article, Story
from digest.primary import is_primary, opening_link

# The parts of a story's score (see `story_value`), tuned on the dev weeks.
SOURCE_WEIGHT = 1.0  # each distinct source beyond the first
FAMILY_WEIGHT = 0.5  # each distinct publisher family beyond the first
# The lab's own page, a paper, a repository or a model page, or a forum post opening on one.
FIRST_PARTY_WEIGHT = 0.6
ENGAGEMENT_WEIGHT = 2.0  # the best engagement within its own source and week (0..1)
TOP_PERCENTILE = 95  # a source's top engagement of the week, against which a post's is read
KIND_WEIGHT_SCALE = 1.0  # the best post type among its articles
SIZE_WEIGHT = 0.5  # per doubling of its news articles
RECENCY_WEIGHT = 0.2
# A story already published that came back with new articles is worth less than a new one.
UPDATE_FACTOR = 0.6
# Centroid cosine at which two chosen stories are taken for one event told twice.
SAME_EVENT = 0.72
# ... and at which two first reported within BURST_HOURS of each other are: on dev the two
# "OpenAI's open model next week" reports, 2.6 h apart at 0.70, where the nearest pair of two
# events of the top 120 stories within 12 h was at 0.68.
SAME_BURST_EVENT = 0.69
BURST_HOURS = 12
# ... and at which two that share a name-and-number token ("k2", "qwen3-235b") are.
SAME_NAMED_EVENT = 0.6
# ... and at which two press reports of no product version (see `_reported`) first made
# within PRESS_HOURS of each other that share a name are: one news cycle in two outlets' words
# (on dev, Wired's "Here is everyone Zuckerberg has hired" and "Sam Altman slams Meta's AI
# talent poaching", 21 h apart at 0.38, the only two such of each dev week's 250 best stories;
# of UCI dev headline pairs so placed, 95 % are one story).
SAME_REPORTED_EVENT = 0.35
PRESS_HOURS = 36
# A name that at most this many stories of the week carry (or this share of them) is distinctive.
NAME_STORIES = 3
NAME_SHARE = 0.06  # a big event's name is in many of the week's stories: still a name
VERSIONED = "v:"  # marks a name joined to its version among a story's names
SAME_VERSIONED_EVENT = 0.3  # centroid cosine at which two sharing a versioned name are one
# ... unless titles of the days before the week carried that name this often: an old model's
# ("DeepSeek R1": three in two days), not one teased once before its launch ("the upcoming
# ERNIE 4.5").
OLD_NAME_TITLES = 2
MERGE_POOL = 20
NAME_STEP = 0.1  # two shared names or more: this much further apart
_NAME = re.compile(r"(?<![\w.-])[A-Z][\w.-]*[A-Za-z0-9](?![\w-])")


@dataclass(frozen=True)
class Signals:
    """Which parts of the score are on: each can be switched off to measure what it gains."""

    sources: bool = True
    families: bool = True
    first_party: bool = True
    engagement: bool = True
    kind: bool = True
    size: bool = True
    recency: bool = True
    dedupe: bool = True


def engagement_ranks(articles: Sequence[Article]) -> dict[str, float]:
    """Each article's engagement (points or upvotes, plus comments) against the top of its own
    source's week, on a log scale (0..1): 500 HN points and 500 Reddit upvotes are each read
    against what their source's best posts get, and a post with ten times the upvotes of
    another counts for more, not merely one rank higher. None for a source whose items carry
    no engagement."""
    by_source: dict[str, list[tuple[float, str]]] = {}
    for a in articles:
        by_source.setdefault(a.source, []).append((float(a.score + a.comments), a.id))
    ranks: dict[str, float] = {}
    for values in by_source.values():
        numbers = np.array([v for v, _ in values])
        if not numbers.any():
            continue
        top = math.log1p(max(float(np.percentile(numbers, TOP_PERCENTILE)), 1.0))
        for value, article_id in values:
            ranks[article_id] = min(math.log1p(value) / top, 1.0)
    return ranks


def story_value(
    story: Story,
    ranks: Mapping[str, float],
    week_end: datetime,
    weights: Mapping[str, float] | None = None,
    signals: Signals = Signals(),
) -> float:
    """How much the story is news: distinct sources and publisher families, a first-party
    origin, engagement within its source, the kind of post, how many report it, recency."""
    every = [(a, post_kind(a)) for a in story.articles]
    typed = news_of(every) or every
    articles = [a for a, _ in typed]
    score = 0.0
    if signals.sources:
        sources = {a.source for a in articles}
        score += SOURCE_WEIGHT * (sum((weights or {}).get(x, 1.0) for x in sources) - 1)
    if signals.families:
        score += FAMILY_WEIGHT * (len({outlet(a) for a in articles}) - 1)
    if signals.first_party and any(
        is_primary(a) or own_site(a) or opening_link(a) is not None for a in articles
    ):
        score += FIRST_PARTY_WEIGHT
    if signals.engagement:
        score += ENGAGEMENT_WEIGHT * max((ranks.get(a.id, 0.0) for a in articles), default=0.0)
    if signals.kind:
        score += KIND_WEIGHT_SCALE * max(KIND_WEIGHT[k] for _, k in typed)
    if signals.size:
        score += SIZE_WEIGHT * math.log2(len(articles))
    if signals.recency:
        latest = max(a.published_at for a in articles)
        age_days = max((week_end - latest).total_seconds() / 86400, 0.0)
        score += RECENCY_WEIGHT / (1.0 + age_days)
    return score * UPDATE_FACTOR if story.is_update else score


def lead_title(articles: Sequence[Article], ranks: Mapping[str, float]) -> str:
    """The title of the post that best tells the story as news: one that names what most of
    its posts name ("Kimi K2"), a release or news post over chatter, the thing's own page (a
    benchmark's repository is not a model's), then the most engaged, then the first; a title
    of a few words ("moonshotai/Kimi-K2") only when no post says more."""
    named = Counter(x for a in articles for x in named_versions(a.title))
    # A name only one post carries is that post's, not the story's.
    top = next((x for x, n in named.most_common(1) if n > 1), "")
    stem = re.match(r"[a-z]+", top)

    def own_page(a: Article) -> bool:
        return is_primary(a) and (stem is None or stem[0] in a.url.lower())

    def key(a: Article) -> tuple[bool, bool, float, bool, float, float]:
        return (
            len(a.title.split()) >= MIN_HEADLINE_WORDS,
            bool(top) and top in named_versions(a.title),
            KIND_WEIGHT[post_kind(a)],
            own_page(a),
            ranks.get(a.id, 0.0),
            -a.published_at.timestamp(),
        )

    return max(articles, key=key).title


def is_news(story: Story, general_sources: Collection[str] = ()) -> bool:
    """A story the issue may carry: not only help threads, and about AI unless a source
    configured as general reports it."""
    articles = news_articles(story)
    return bool(articles) and any(a.source in general_sources or about_ai(a) for a in articles)


@dataclass(frozen=True)
class Selection:
    """The stories chosen for the issue (help threads taken out of them), best first, and
    every story's score."""

    stories: tuple[Story, ...]
    rows: tuple[int, ...]  # each chosen story's row in the vectors given
    scores: Mapping[str, float]


def _close(
    vectors: np.ndarray,
    tokens: Sequence[frozenset[str]],
    v: np.ndarray,
    t: frozenset[str],
    firsts: Sequence[float] = (),
    first: float | None = None,
    old_names: Collection[str] = (),
    reports: Sequence[bool] = (),
    report: bool = False,
) -> int:
    """The row of `vectors` that tells the same event as (v, t), or -1: close, or nearly so
    and first reported within hours of it (`firsts`, `first`: POSIX seconds), or fairly close
    and sharing names ("k2", "qwen3-235b", "Kiro"), the closer the fewer they share; of
    several, the one sharing more names, then the closest. A name with its version shared
    lowers the closeness needed much, unless it is one of `old_names` (an old model's), as
    does any name two press reports (`reports`, `report`) share within PRESS_HOURS."""
    if not len(vectors):
        return -1
    sims = vectors @ v
    # Close as they may be, "Grok 3 open-sourced" and "Grok 4 is live" are two events.
    sims = np.where([_other_version(other, t) for other in tokens], -1.0, sims)
    best = int(np.argmax(sims))
    if sims[best] >= SAME_EVENT:
        return best
    if first is not None:
        burst = [
            i
            for i, when in enumerate(firsts)
            if abs(when - first) <= BURST_HOURS * 3600 and sims[i] >= SAME_BURST_EVENT
        ]
        if burst:
            return max(burst, key=lambda i: float(sims[i]))

    def near(i: int, shared: frozenset[str]) -> bool:
        recent = first is not None and abs(firsts[i] - first) <= PRESS_HOURS * 3600
        if report and reports[i] and recent:
            return bool(sims[i] >= SAME_REPORTED_EVENT)
        if any(x.startswith(VERSIONED) and x not in old_names for x in shared):
            return bool(sims[i] >= SAME_VERSIONED_EVENT)
        return bool(sims[i] >= SAME_NAMED_EVENT - NAME_STEP * min(len(shared) - 1, 1))

    shared = [i for i, other in enumerate(tokens) if (both := other & t) and near(i, both)]
    # More names shared is stronger evidence than a little more closeness.
    return max(shared, key=lambda i: (min(len(tokens[i] & t), 2), sims[i])) if shared else -1


def _reported(story: Story) -> bool:
    """Whether the story is the press's report of something no product version names: a press
    outlet's page is among its links, and none of its titles names a product with a version (a
    lab's two launches in a day, "Veo 4" and "Lyria 3", are two events)."""
    press = any(
        (linked := link_outlet(a.url)) is not None and linked.type == PRESS for a in story.articles
    )
    return press and not any(named_versions(a.title) for a in story.articles)


def _old_names(names: Collection[str], before: Sequence[str]) -> set[str]:
    """The names with a version among `names` that OLD_NAME_TITLES or more of the titles
    `before` carry, however written ("deepseek-r1-0528", "DeepSeek R1")."""
    counts: Counter[str] = Counter()
    for title in before:
        words = [w.strip(".") for w in re.split(r"[^\w.]+", title.lower())]
        counts.update({*words, *(a + b for a, b in pairwise(words))})
    return {
        x
        for x in names
        if x.startswith(VERSIONED) and counts[x.removeprefix(VERSIONED)] >= OLD_NAME_TITLES
    }


def _other_version(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether the two name one product at different versions ("grok3", "grok4")."""
    named = [{x: version_stem(x) for x in names if x.startswith(VERSIONED)} for names in (a, b)]
    return any(
        x != y and stem == other for x, stem in named[0].items() for y, other in named[1].items()
    )


_WORD = re.compile(r"[\w.-]+")
# Capitalised words of AI news that name no one thing.
_GENERIC = frozenset(
    [
        "ai",
        "agi",
        "llm",
        "llms",
        "gpu",
        "gpus",
        "cpu",
        "vram",
        "ram",
        "mcp",
        "rag",
        "api",
        "apis",
        "tts",
        "stt",
        "asr",
        "ocr",
        "moe",
        "gguf",
        "lora",
        "ui",
        "ux",
        "sota",
        "oss",
        "hf",
        "pc",
        "ide",
        "cli",
        "sdk",
        "tpu",
        "npu",
        "rl",
        "ml",
        "nlp",
        "vlm",
        "vlms",
        "json",
        "pdf",
        "os",
        "llama.cpp",
        "open",
        "source",
        "new",
        "local",
        "model",
        "models",
    ]
)


def _tokens(story: Story, common: Collection[str]) -> frozenset[str]:
    """Names in its titles: name-and-number tokens and their parts ("kimi-k2" gives "k2"
    too), and capitalised words never written in lower case in `common` ("Kiro", "ERNIE")."""
    found = {x for a in story.articles for x in specific_tokens(a.title)}
    parts = {p for x in found for p in re.split(r"[-_/]", x) if re.search(r"\d", p) and len(p) > 1}
    # The name with its version most of its titles carry ("grok4"), if any.
    versions = Counter(x for a in story.articles for x in named_versions(a.title))
    found |= {VERSIONED + x for x, _ in versions.most_common(1)}
    names = {w.lower() for a in story.articles for w in _NAME.findall(a.title)}
    names |= {p for w in names for p in re.split(r"[-_/]", w) if len(p) > 2}
    return frozenset(found | parts | (names - set(common) - _GENERIC))


def _names(
    stories: Mapping[int, Story], rare_among: Collection[int] | None = None
) -> dict[int, frozenset[str]]:
    """Each story's names; of the stories in `rare_among` (all by default), only the names
    that few of those carry."""
    common = {w for s in stories.values() for a in s.articles for w in _WORD.findall(a.title)}
    common = {w for w in common if w.islower()}
    tokens = {i: _tokens(s, common) for i, s in stories.items()}
    among = set(tokens) if rare_among is None else set(rare_among)
    counts: dict[str, int] = {}
    for i in among:
        for t in tokens[i]:
            counts[t] = counts.get(t, 0) + 1
    most = max(NAME_STORIES, NAME_SHARE * len(among))

    def rare(t: str) -> bool:
        # A name with its version ("grok4") names one thing however many stories carry it:
        # they are pieces of its launch more often than other events.
        return t.startswith(VERSIONED) or counts[t] <= most

    return {
        i: frozenset(t for t in found if i not in among or rare(t)) for i, found in tokens.items()
    }


def select_stories(
    stories: Sequence[Story],
    vectors: np.ndarray,
    week_end: datetime,
    limit: int,
    weights: Mapping[str, float] | None = None,
    general_sources: Collection[str] = (),
    published: Sequence[Story] = (),
    published_vectors: np.ndarray | None = None,
    signals: Signals = Signals(),
    before: Sequence[str] = (),
) -> Selection:
    """Up to `limit` stories worth telling, best first, each event once.

    Help threads and items not about AI are left out. A story that tells the same event as
    one chosen before it (the grouping left it in two pieces) joins that one. A story that
    tells an event an earlier issue published (`published`, with their unit centroids) is an
    update of it: it takes that story's id, is marked as an update and counts for less.
    `before` are titles published in the days before the week: a name with its version they
    carry ("DeepSeek R1") and no published story does is an old model's, not a launch, and
    pieces sharing it join only as pieces sharing any other name do.
    """
    ranks = engagement_ranks([a for s in stories for a in s.articles])
    old_ids = [p.id for p in published]
    old_vectors = published_vectors if published_vectors is not None else vectors[:0]
    news = [i for i, s in enumerate(stories) if is_news(s, general_sources)]
    old = {-1 - n: p for n, p in enumerate(published)}  # negative keys: apart from this week's
    named = _names({**old, **{i: stories[i] for i in news}})
    tokens = {i: named[i] for i in news}
    # An event that runs on is named in many of this week's stories ("Kimi K2"): against the
    # published stories a name counts when few of those carry it, however many new ones do.
    carried = _names({**old, **{i: stories[i] for i in news}}, rare_among=())
    old_tokens = [carried[k] for k in old]
    # A launch an earlier issue told that runs on ("Kimi K2") keeps its pieces together.
    old_names = _old_names({x for t in tokens.values() for x in t}, before) - {
        x for t in old_tokens for x in t
    }
    updates: dict[int, str] = {}
    for i in news:
        match = _close(old_vectors, old_tokens, vectors[i], carried[i]) if signals.dedupe else -1
        if match >= 0 and old_ids[match] != stories[i].id:
            updates[i] = old_ids[match]
        elif stories[i].is_update:
            updates[i] = stories[i].id
    scores = {}
    for i, s in enumerate(stories):
        story = replace(s, is_update=True) if i in updates else s
        scores[s.id] = story_value(story, ranks, week_end, weights, signals)
    news.sort(key=lambda i: (-scores[stories[i].id], stories[i].id))
    # Pieces of one event join the best-scored piece; the event is then scored as a whole.
    # Only the best MERGE_POOL times `limit` stories are looked at: the rest never make it.
    news = news[: MERGE_POOL * limit]
    events: list[list[int]] = []
    by_update: dict[str, int] = {}
    leads = np.empty((len(news), vectors.shape[1]), dtype=vectors.dtype)
    lead_tokens: list[frozenset[str]] = []
    lead_firsts: list[float] = []
    lead_reports: list[bool] = []
    first = {i: min(a.published_at for a in stories[i].articles).timestamp() for i in news}
    for i in news:
        if i in updates and updates[i] in by_update:
            events[by_update[updates[i]]].append(i)
            continue
        lead = -1
        report = _reported(stories[i])
        if signals.dedupe and events:
            lead = _close(
                leads[: len(events)],
                lead_tokens,
                vectors[i],
                tokens[i],
                lead_firsts,
                first[i],
                old_names,
                lead_reports,
                report,
            )
        if lead >= 0:
            events[lead].append(i)
            if i in updates:  # an update told with this week's news of the same event
                by_update.setdefault(updates[i], lead)
            continue
        if i in updates:
            by_update[updates[i]] = len(events)
        leads[len(events)] = vectors[i]
        lead_tokens.append(tokens[i])
        lead_firsts.append(first[i])
        lead_reports.append(report)
        events.append([i])
    told = []
    for members in events:
        articles = sorted(
            {a.id: a for m in members for a in news_articles(stories[m])}.values(),
            key=lambda a: (a.published_at, a.id),
        )
        lead = members[0]
        story = replace(stories[lead], articles=tuple(articles), title=lead_title(articles, ranks))
        if lead in updates:
            story = replace(story, id=updates[lead], is_update=True)
        value = story_value(story, ranks, week_end, weights, signals)
        told.append((value, lead, story))
    told.sort(key=lambda t: (-t[0], stories[t[1]].id))
    chosen = told[:limit]
    for value, _, story in chosen:
        scores[story.id] = value
    kept = tuple(story for _, _, story in chosen)
    return Selection(kept, tuple(lead for _, lead, _ in chosen), scores)
