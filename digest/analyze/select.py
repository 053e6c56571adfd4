"""Which stories make the issue: news over chatter, by who covers a story, where and how."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

import numpy as np

from digest.analyze.events import named_versions
from digest.analyze.stories import specific_tokens
from digest.analyze.titles import MIN_HEADLINE_WORDS
from digest.families import PRESS, link_outlet, publisher
from digest.models import Article, Story
from digest.primary import is_model_page, is_primary, names_its_site

# What a post is, from the flair its source gave it: how much it weighs as news (help threads
# and the like never make the issue). Flairs are r/LocalLLaMA's; others weigh as "".
FLAIR_KIND = {
    "new model": "release",
    "news": "news",
    "resources": "resource",
    "tutorial | guide": "resource",
    "discussion": "discussion",
    "other": "other",
    "generation": "showoff",
    "funny": "meme",
    "question | help": "help",
}
KIND_WEIGHT = {
    "release": 1.0,
    "news": 1.0,
    "resource": 0.6,
    "discussion": 0.3,
    "": 0.5,  # unknown: a feed item or a link without flair
    "other": 0.2,
    "showoff": 0.1,
    "meme": 0.0,
    "help": 0.0,
}
NOT_NEWS = frozenset({"help"})
# A request for help, as its title reads when no flair says so.
_HELP = re.compile(
    r"^(?:how (?:do|can|to|should|would)|what(?:'s| is| are)? (?:the )?best|which|"
    r"why (?:is|does|do|can't|won't)|can (?:i|you|someone)|should i|is (?:it|there)|are there|"
    r"does anyone|anyone|any (?:good|recommendations?|suggestions?|advice|tips?|ideas?)|"
    r"need help|help\b|noob|newbie|beginner|looking for|recommend|"
    r"(?:the )?best (?:[\w-]+ ){0,3}for)|"
    r"\b(?:help(?: me)?|advice|noob question|not working|error|"
    r"trouble|stuck|how do i|suggestions?|recommendations?)\b.*\?$|\?\s*$|"
    r"\b(?:not (?:being )?(?:used|detected|working|loading|performing)|acting (?:weird|strange)|"
    # "won't" in reported speech ("Meta says it won't sign") is news, not a request for help.
    r"issues? with|problems? with|(?<!says it )(?<!says they )(?<!said it )(?<!said they )"
    r"(?:can't|cannot|doesn't|won't)|"
    r"unable to|any ?one (?:know|tried|using)|what should i|best way to|noob|newbie|beginner|"
    r"budget for|getting started|question)\b",
    re.I,
)
# Where a title's first clause ends ("Kimi K3 is out: who's running it?").
_CLAUSE = re.compile(r"\s*[:,;]\s+|\s+[-\u2013\u2014]\s+")
# A show-off of one's own setup, or a meme, as the title reads.
_SHOWOFF = re.compile(
    r"\b(?:my (?:[\w-]+ ){0,3}(?:setup|build|rig|server|workstation|homelab|"
    r"lab)|i (?:built|made|bought|upgraded)|finally (?:got|built)|meme)\b",
    re.I,
)
# Words that show an item is about AI; items of a source not configured `general` need one.
_AI_UPPER = re.compile(
    r"(?<![\w.-])(?:A\.?I\.?|AGI|LLMs?|ML|NLP|GPTs?|RAG|MCP|TTS|ASR|VLMs?|MoE|GGUF|LoRA|RLHF|"
    r"GPUs?|TPUs?|NPUs?|CUDA|ROCm|vLLM|llama\.cpp|Ollama)(?![\w-])"
    # A model's size in parameters ("EXAONE 4.0 32B", "Qwen3-30B-A3B"), not a sum ("$3B").
    r"|(?<![\w$.])(?:\d+x)?\d+(?:\.\d+)?[Bb](?![\w])"
)
_AI_WORDS = re.compile(
    r"\b(?:artificial intelligence|machine learning|deep learning|neural|transformers?|"
    r"(?:language|foundation|reasoning|frontier|open|local|AI) models?|chatbots?|inference|"
    r"fine-?tun\w*|embeddings?|diffusion|agents?|agentic|prompt\w*|open[- ]weights?|"
    r"benchmarks?|pre-?train\w*|OpenAI|ChatGPT|GPT-\w+|Anthropic|Claude|Gemini|Gemma|DeepMind|"
    r"Llama\w*|Mistral|Devstral|Qwen\w*|DeepSeek|Grok|xAI|Copilot|Nvidia|Hugging ?Face|Kimi|"
    r"Moonshot|Perplexity|Midjourney|Cursor|Windsurf|vibe[- ]cod\w*|robot\w*|self-driving|"
    r"superintelligence|Hunyuan|Ernie|Pangu|Mamba|SmolLM\w*|Sora|Veo|Whisper|speech "
    r"recognition|text-to-speech|voice clon\w*|tokeni[sz]\w*|quantiz\w*|quantis\w*)\b",
    re.I,
)
ABOUT_AI_CHARS = 600  # of an item's text read for AI words, after its title
QUESTION_CHARS = 400  # of a forum post's own text, where a question makes it a request for help
_FORUMS = ("reddit.com", "news.ycombinator.com", "lobste.rs")

# The parts of a story's score (see `story_value`), tuned on the dev weeks.
SOURCE_WEIGHT = 1.0  # each distinct source beyond the first
FAMILY_WEIGHT = 0.5  # each distinct publisher family beyond the first
FIRST_PARTY_WEIGHT = 0.6  # the lab's own page, a paper, a repository or a model page
ENGAGEMENT_WEIGHT = 2.0  # the best engagement within its own source and week (0..1)
TOP_PERCENTILE = 95  # a source's top engagement of the week, against which a post's is read
KIND_WEIGHT_SCALE = 1.0  # the best post type among its articles
SIZE_WEIGHT = 0.5  # per doubling of its news articles
RECENCY_WEIGHT = 0.2
# A story already published that came back with new articles is worth less than a new one.
UPDATE_FACTOR = 0.6
# Centroid cosine at which two chosen stories are taken for one event told twice.
SAME_EVENT = 0.72
# ... and at which two that share a name-and-number token ("k2", "qwen3-235b") are.
SAME_NAMED_EVENT = 0.6
# A name that at most this many stories of the week carry (or this share of them) is distinctive.
NAME_STORIES = 3
NAME_SHARE = 0.06  # a big event's name is in many of the week's stories: still a name
VERSIONED = "v:"  # marks a name joined to its version among a story's names
SAME_VERSIONED_EVENT = 0.3  # centroid cosine at which two sharing a versioned name are one
MERGE_POOL = 20
NAME_STEP = 0.1  # two shared names or more: this much further apart
_NAME = re.compile(r"(?<![\w.-])[A-Z][\w.-]*[A-Za-z0-9](?![\w-])")
# Hosts that discuss or carry others' content: a link there names no publisher.
_HOSTING = frozenset({"github.com", "gitlab.com", "huggingface.co", "hf.co"})


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


def post_kind(article: Article) -> str:
    """What the post is: its flair's kind where it has one, else what its title shows
    ("help", "showoff"), else for a forum's own post "help" when it asks a question early
    and "discussion" when not; else what it links: a model's page is a release, the press's
    report news (as r/LocalLLaMA flairs 31 of 35 and 7 of 9 of those on dev); else "" (a link
    to something else published)."""
    if (kind := _flaired_kind(article)) is not None:
        return kind
    if _HELP.search(article.title.strip()):
        return "help"
    if _SHOWOFF.search(article.title):
        return "showoff"
    if self_post(article):
        # A post of the forum's own that asks something early on is a request for help.
        return "help" if "?" in article.summary[:QUESTION_CHARS] else "discussion"
    if is_model_page(article.url):
        return "release"
    linked = link_outlet(article.url)
    return "news" if linked is not None and linked.type == PRESS else ""


def self_post(article: Article) -> bool:
    """A forum's own post (its text is all there is), not a link to something published."""
    host = (urlsplit(article.url).hostname or "").lower()
    return article.url == article.discussion_url or host.endswith(_FORUMS)


def about_ai(article: Article) -> bool:
    """Whether the title or the start of the text speaks of AI."""
    text = f"{article.title}. {article.summary[:ABOUT_AI_CHARS]}"
    return bool(_AI_UPPER.search(text) or _AI_WORDS.search(text))


def outlet(article: Article) -> str:
    """Who reported it, for counting outlets: its publisher family, but a repository or
    model page is the thing reported (the first-party bonus counts it), so a post linking one
    counts as the source that posted it: three model pages in one thread are not three
    outlets."""
    host = (urlsplit(article.url).hostname or "").lower().removeprefix("www.")
    return article.source if host in _HOSTING else publisher(article)


def own_site(article: Article) -> bool:
    """A link to the site of the thing it announces ("Kiro: A new agentic IDE" on kiro.dev),
    not to the press, a forum or a host of others' pages, which may name themselves."""
    return not self_post(article) and link_outlet(article.url) is None and names_its_site(article)


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


def news_articles(story: Story) -> tuple[Article, ...]:
    """The story's articles without its help threads: none when every article reads as one,
    else all but those the forum itself flaired as help (a release post that ends on "who's
    running it?" is still a source of the news)."""
    if all(post_kind(a) in NOT_NEWS for a in story.articles):
        return ()
    return tuple(a for a in story.articles if not _asks_for_help(a))


def _asks_for_help(article: Article) -> bool:
    """A help thread: flaired so, or read so from a title that does not open with news."""
    if (kind := _flaired_kind(article)) is not None:
        return kind in NOT_NEWS
    head = _CLAUSE.split(article.title.strip(), maxsplit=1)
    return post_kind(article) in NOT_NEWS and not (len(head) > 1 and not _HELP.search(head[0]))


def _flaired_kind(article: Article) -> str | None:
    """The post's kind as its flair gives it, if it has a known one."""
    kinds = (FLAIR_KIND.get(tag.strip().lower()) for tag in article.tags)
    return next((k for k in kinds if k is not None), None)


def story_value(
    story: Story,
    ranks: Mapping[str, float],
    week_end: datetime,
    weights: Mapping[str, float] | None = None,
    signals: Signals = Signals(),
) -> float:
    """How much the story is news: distinct sources and publisher families, a first-party
    origin, engagement within its source, the kind of post, how many report it, recency."""
    articles = news_articles(story) or story.articles
    score = 0.0
    if signals.sources:
        sources = {a.source for a in articles}
        score += SOURCE_WEIGHT * (sum((weights or {}).get(x, 1.0) for x in sources) - 1)
    if signals.families:
        score += FAMILY_WEIGHT * (len({outlet(a) for a in articles}) - 1)
    if signals.first_party and any(is_primary(a) or own_site(a) for a in articles):
        score += FIRST_PARTY_WEIGHT
    if signals.engagement:
        score += ENGAGEMENT_WEIGHT * max((ranks.get(a.id, 0.0) for a in articles), default=0.0)
    if signals.kind:
        score += KIND_WEIGHT_SCALE * max(KIND_WEIGHT[post_kind(a)] for a in articles)
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
    vectors: np.ndarray, tokens: Sequence[frozenset[str]], v: np.ndarray, t: frozenset[str]
) -> int:
    """The row of `vectors` that tells the same event as (v, t), or -1: close, or fairly close
    and sharing names ("k2", "qwen3-235b", "Kiro"), the closer the fewer they share; of
    several, the one sharing more names, then the closest."""
    if not len(vectors):
        return -1
    sims = vectors @ v
    # Close as they may be, "Grok 3 open-sourced" and "Grok 4 is live" are two events.
    sims = np.where([_other_version(other, t) for other in tokens], -1.0, sims)
    best = int(np.argmax(sims))
    if sims[best] >= SAME_EVENT:
        return best

    def near(i: int, shared: frozenset[str]) -> bool:
        if any(x.startswith(VERSIONED) for x in shared):
            return bool(sims[i] >= SAME_VERSIONED_EVENT)
        return bool(sims[i] >= SAME_NAMED_EVENT - NAME_STEP * min(len(shared) - 1, 1))

    shared = [i for i, other in enumerate(tokens) if (both := other & t) and near(i, both)]
    # More names shared is stronger evidence than a little more closeness.
    return max(shared, key=lambda i: (min(len(tokens[i] & t), 2), sims[i])) if shared else -1


def _other_version(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether the two name one product at different versions ("grok3", "grok4")."""
    named = [
        {x: re.sub(r"\d.*", "", x) for x in names if x.startswith(VERSIONED)} for names in (a, b)
    ]
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
) -> Selection:
    """Up to `limit` stories worth telling, best first, each event once.

    Help threads and items not about AI are left out. A story that tells the same event as
    one chosen before it (the grouping left it in two pieces) joins that one. A story that
    tells an event an earlier issue published (`published`, with their unit centroids) is an
    update of it: it takes that story's id, is marked as an update and counts for less.
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
    for i in news:
        if i in updates and updates[i] in by_update:
            events[by_update[updates[i]]].append(i)
            continue
        lead = -1
        if signals.dedupe and events:
            lead = _close(leads[: len(events)], lead_tokens, vectors[i], tokens[i])
        if lead >= 0:
            events[lead].append(i)
            if i in updates:  # an update told with this week's news of the same event
                by_update.setdefault(updates[i], lead)
            continue
        if i in updates:
            by_update[updates[i]] = len(events)
        leads[len(events)] = vectors[i]
        lead_tokens.append(tokens[i])
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
