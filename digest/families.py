"""Who reported an article: its source type (lab, paper, press, forum, aggregator) and family."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from digest.models import Article, Reporting, Thread
from digest.primary import is_paper_link, is_primary, own_post

# The types a source or a link can have, in the order a story's line names them.
FIRST_PARTY = "first-party"  # a lab's or company's own site or repository
PAPER = "paper"
PRESS = "press"
COMMUNITY = "community"  # a forum: Hacker News, a subreddit, Lobsters
AGGREGATOR = "aggregator"  # a newsletter or site that gathers others' news
TYPES = (FIRST_PARTY, PAPER, PRESS, COMMUNITY, AGGREGATOR)


@dataclass(frozen=True)
class Outlet:
    """Who published something: its type (one of TYPES) and its family, the publisher that
    counts once however many blogs, feeds or threads it has."""

    type: str
    family: str
    site: str = field(default="", compare=False)  # a source's own site (registered domain)


# Well-known domains (and their subdomains): one company's several blogs share a family.
_LABS = {
    "OpenAI": ("openai.com", "chatgpt.com"),
    "Anthropic": ("anthropic.com", "claude.ai", "claude.com"),
    "Google": (
        "deepmind.google",
        "deepmind.com",
        "blog.google",
        "ai.google",
        "ai.google.dev",
        "research.google",
        "blog.research.google",
        "developers.googleblog.com",
        "gemini.google.com",
    ),
    "Meta": ("ai.meta.com", "about.fb.com", "llama.com", "engineering.fb.com"),
    "Microsoft": ("microsoft.com", "blogs.microsoft.com", "azure.microsoft.com"),
    "NVIDIA": ("nvidia.com", "blogs.nvidia.com", "nvidianews.nvidia.com", "developer.nvidia.com"),
    "Apple": ("machinelearning.apple.com", "apple.com"),
    "Amazon": ("aws.amazon.com", "aboutamazon.com", "amazon.science"),
    "Alibaba Qwen": ("qwenlm.github.io", "qwen.ai", "qwen.alibaba.com"),
    "Moonshot AI": ("moonshotai.github.io", "moonshot.ai", "kimi.com"),
    "DeepSeek": ("deepseek.com", "api-docs.deepseek.com"),
    "Mistral AI": ("mistral.ai",),
    "xAI": ("x.ai",),
    "Hugging Face": ("huggingface.co", "hf.co"),
    "Ollama": ("ollama.com",),
    "Cohere": ("cohere.com",),
    "Stability AI": ("stability.ai",),
    "ElevenLabs": ("elevenlabs.io",),
    "Allen AI": ("allenai.org",),
    "Perplexity": ("perplexity.ai",),
    "Zhipu AI": ("z.ai",),
    "MiniMax": ("minimax.io",),
    "Black Forest Labs": ("bfl.ai",),
    "Kyutai": ("kyutai.org",),
}
# Organisations on GitHub and Hugging Face, by their account name there.
OWNERS = {
    "openai": "OpenAI",
    "anthropics": "Anthropic",
    "google": "Google",
    "google-deepmind": "Google",
    "google-research": "Google",
    "meta-llama": "Meta",
    "facebookresearch": "Meta",
    "facebook": "Meta",
    "microsoft": "Microsoft",
    "nvidia": "NVIDIA",
    "apple": "Apple",
    "qwen": "Alibaba Qwen",
    "qwenlm": "Alibaba Qwen",
    "moonshotai": "Moonshot AI",
    "deepseek-ai": "DeepSeek",
    "mistralai": "Mistral AI",
    "xai-org": "xAI",
    "huggingface": "Hugging Face",
    "ollama": "Ollama",
    "cohereforai": "Cohere",
    "coherelabs": "Cohere",
    "stabilityai": "Stability AI",
    "allenai": "Allen AI",
    "thudm": "Zhipu AI",
    "zai-org": "Zhipu AI",
    "minimax-ai": "MiniMax",
    "black-forest-labs": "Black Forest Labs",
    "kyutai-labs": "Kyutai",
    "skywork": "Skywork",
    "tencent": "Tencent",
    "tencent-hunyuan": "Tencent",
    "baidu": "Baidu",
    "paddlepaddle": "Baidu",
    "liquidai": "Liquid AI",
    "ibm-granite": "IBM",
    "ibm": "IBM",
    "internlm": "Shanghai AI Lab",
    "openbmb": "OpenBMB",
    "bytedance": "ByteDance",
    "bytedance-seed": "ByteDance",
    "salesforce": "Salesforce",
}
_PRESS = {
    "TechCrunch": ("techcrunch.com",),
    "The Verge": ("theverge.com",),
    "MIT Technology Review": ("technologyreview.com",),
    "Ars Technica": ("arstechnica.com",),
    "Wired": ("wired.com",),
    "Reuters": ("reuters.com",),
    "Bloomberg": ("bloomberg.com",),
    "VentureBeat": ("venturebeat.com",),
    "The Information": ("theinformation.com",),
    "CNBC": ("cnbc.com",),
    "The New York Times": ("nytimes.com",),
    "Financial Times": ("ft.com",),
    "Axios": ("axios.com",),
    "The Register": ("theregister.com",),
    "ZDNET": ("zdnet.com",),
    "Engadget": ("engadget.com",),
    "Simon Willison": ("simonwillison.net",),
}
_PAPERS = {
    "arXiv": ("arxiv.org",),
    "OpenReview": ("openreview.net",),
    "ACL Anthology": ("aclanthology.org",),
}
_AGGREGATORS = {
    "Techmeme": ("techmeme.com",),
    "Google News": ("news.google.com",),
    "Import AI": ("importai.substack.com", "jack-clark.net"),
    "The Batch": ("deeplearning.ai",),
    "Last Week in AI": ("lastweekin.ai",),
    "TLDR": ("tldr.tech",),
    "hnrss": ("hnrss.org",),
}
_FORUMS = {
    "HN": ("news.ycombinator.com", "hn.algolia.com"),
    "Lobsters": ("lobste.rs",),
}
_LAB_NAMES = frozenset(_LABS) | frozenset(OWNERS.values())
DOMAINS: dict[str, Outlet] = {
    domain: Outlet(kind, name)
    for kind, table in (
        (FIRST_PARTY, _LABS),
        (PRESS, _PRESS),
        (PAPER, _PAPERS),
        (AGGREGATOR, _AGGREGATORS),
        (COMMUNITY, _FORUMS),
    )
    for name, domains in table.items()
    for domain in domains
}
# Hosts that carry what others wrote: a link there names the poster, not a publisher.
_CARRIERS = ("twitter.com", "x.com", "imgur.com", "youtube.com", "youtu.be")
# Hosts where many publishers have a page: the first path part (or subdomain) is the publisher.
_HOSTING = frozenset({"github.com", "gitlab.com", "codeberg.org", "huggingface.co", "hf.co"})
_HOST_PAGES = ("blog", "docs", "learn", "")  # ... and the paths of the host's own pages there
_HOSTED = frozenset({"github.io", "gitlab.io", "hf.space", "substack.com", "medium.com"})
_ADDRESS = re.compile(r"^[\d.]+$|:")  # an IP address names no site
_SUBREDDIT = re.compile(r"^/r/([A-Za-z0-9_]+)", re.I)


@lru_cache(maxsize=1 << 16)
def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for prefix in ("www.", "m.", "old."):
        host = host.removeprefix(prefix)
    return host


def _known(host: str) -> Outlet | None:
    """The table's outlet for the host or the nearest parent domain it lists."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        if (found := DOMAINS.get(".".join(labels[i:]))) is not None:
            return found
    return None


def _registered(host: str) -> str:
    """The name a host was registered under: 'blog.example.co.uk' -> 'example.co.uk'."""
    labels = host.split(".")
    if len(labels) > 2 and ".".join(labels[-2:]) in _HOSTED:  # qwenlm.github.io
        return host
    keep = 3 if len(labels) > 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def forum_place(url: str) -> str:
    """The community a thread URL belongs to ('r/LocalLLaMA', 'HN', 'Lobsters'), or ''."""
    host = host_of(url)
    if host == "reddit.com" or host.endswith(".reddit.com") or host == "redd.it":
        found = _SUBREDDIT.match(urlsplit(url).path)
        return f"r/{found.group(1)}" if found else "Reddit"
    known = _known(host)
    return known.family if known is not None and known.type == COMMUNITY else ""


def hosted(url: str) -> bool:
    """Whether the page is one a host carries for its owner (a repository, a model, a
    dataset, a space), not the host's own (its blog, docs, paper pages)."""
    if host_of(url) not in _HOSTING:
        return False
    return urlsplit(url).path.strip("/").split("/")[0] not in ("papers", *_HOST_PAGES)


@lru_cache(maxsize=1 << 16)  # a week's posts ask for their link's outlet a few times each
def link_outlet(url: str) -> Outlet | None:
    """Who published the page at `url`, from the link alone: the table of well-known domains,
    a paper, a repository's or model page's owner; None for a carrier (a forum post, a tweet)
    or a host the table does not know."""
    host = host_of(url)
    if not host or forum_place(url) or any(host == c or host.endswith("." + c) for c in _CARRIERS):
        return None
    if host in _HOSTING:
        parts = [*urlsplit(url).path.strip("/").split("/"), ""]
        if parts[0] == "papers":  # Hugging Face's page of an arXiv paper
            return Outlet(PAPER, "arXiv")
        if parts[0] in _HOST_PAGES:
            return _known(host)
        owner = (parts[1] if parts[0] in ("spaces", "datasets", "orgs") else parts[0]).lower()
        return Outlet(FIRST_PARTY, OWNERS.get(owner, owner)) if owner else None
    if (known := _known(host)) is not None:
        return known
    if is_paper_link(url):
        return Outlet(PAPER, _registered(host))
    return None


def source_outlet(name: str, kind: str, url: str, type: str = "", family: str = "") -> Outlet:
    """A source's outlet as far as it is known: what sources.yaml declares, else what its kind
    or its URL's domain says (forums are communities, arXiv a paper); "" where neither says,
    so that its posts are typed by their links (a lab's blog served from a mirror)."""
    known = link_outlet(url) if url else None
    place = forum_place(url) if url else ""
    guess = _BY_KIND.get(kind) or (COMMUNITY if place else "") or (known.type if known else "")
    by_url = place or (known.family if known is not None and known.type == guess else "")
    host = host_of(url)
    site = "" if not host or _ADDRESS.search(host) or host == "localhost" else _registered(host)
    return Outlet(type or guess, family or by_url, site)


_BY_KIND = {"hackernews": COMMUNITY, "reddit": COMMUNITY, "lobsters": COMMUNITY, "arxiv": PAPER}


def outlet(article: Article, declared: Mapping[str, Outlet] | None = None) -> Outlet:
    """Who published what the article carries.

    A forum's own post (or a cross-post) counts for the community it started in; a post or
    feed item linking a page counts for the page's publisher, so a Reddit or HN link to a
    lab's post is the lab; a source's own posts count as sources.yaml declares the source.
    """
    if place := _posted_in(article):  # a thread: its own post, or a cross-post
        return Outlet(COMMUNITY, place)
    host = host_of(article.url)
    derived = link_outlet(article.url)
    if derived is None and is_primary(article):
        derived = Outlet(FIRST_PARTY, _registered(host))
    mine = (declared or {}).get(article.source)
    # A forum's links are others' pages, even where its name holds a site's ("r/OpenAI").
    if mine is not None and (
        article.url == article.discussion_url
        or (
            mine.type != COMMUNITY
            and (own_post(article) or (bool(mine.site) and _registered(host) == mine.site))
        )
    ):
        kind = mine.type or (derived.type if derived else PRESS)
        fallback = derived.family if derived is not None and derived.type == kind else ""
        return Outlet(kind, mine.family or fallback or article.source)
    if derived is not None:
        return derived
    return Outlet(PRESS, _registered(host)) if host else Outlet(COMMUNITY, article.source)


def _posted_in(article: Article) -> str:
    """The community of a forum's own post: its thread's; for a picture, a video or a gallery
    uploaded to Reddit with the post ("i.redd.it", "reddit.com/gallery/"), the community of
    the post's thread, so an upload counts neither as a publisher nor as another forum."""
    place = forum_place(article.url) or (
        "Reddit" if host_of(article.url).endswith(".redd.it") else ""
    )
    if place == "Reddit" and article.discussion_url:
        return forum_place(article.discussion_url) or place
    return place


def publisher(article: Article, declared: Mapping[str, Outlet] | None = None) -> str:
    """The publisher family the article counts for (see `outlet`)."""
    return outlet(article, declared).family


def families(articles: Iterable[Article], declared: Mapping[str, Outlet] | None = None) -> set[str]:
    """The distinct publisher families that reported these articles (see `outlet`)."""
    return {outlet(a, declared).family for a in articles}


MAX_THREADS = 20  # threads kept per story, busiest first
LAB = "lab"  # a story's origin when the first-party page is a known lab's or company's


def reporting(
    articles: Iterable[Article],
    threads: Iterable[Thread] = (),
    declared: Mapping[str, Outlet] | None = None,
) -> Reporting:
    """Who reported a story: the lab (a known lab's or company's own page, or a source
    declared first-party), else the project (a repository, a model page) or the paper, when
    its own page is among the articles,
    how many other publishers told it (one company's blogs once, forums not counted), its
    threads (each article's own and the `threads` seen elsewhere), and the one community
    that alone reported it, if so."""
    articles = list(articles)
    outlets = [outlet(a, declared) for a in articles]
    types = {o.type for o in outlets}
    origin = FIRST_PARTY if FIRST_PARTY in types else PAPER if PAPER in types else ""
    labs = _LAB_NAMES | {o.family for o in (declared or {}).values() if o.type == FIRST_PARTY}
    if origin == FIRST_PARTY and any(o.family in labs for o in outlets):
        origin = LAB
    told = {o.family for o in outlets if o.type != COMMUNITY}
    beyond = len(told) - (1 if origin else 0)
    found: dict[str, Thread] = {}
    own = [
        Thread(forum_place(url) or a.source, url, a.score, a.comments)
        for a in articles
        if (url := a.discussion_url or (a.href if forum_place(a.url) else ""))
    ]
    for t in (*own, *threads):
        if t.url not in found or t.score > found[t.url].score:
            found[t.url] = t
    busiest = sorted(found.values(), key=lambda t: (-t.score, -t.comments, t.url))
    communities = {o.family for o in outlets if o.type == COMMUNITY} | {t.place for t in busiest}
    only = next(iter(communities)) if not told and len(communities) == 1 else ""
    return Reporting(origin, beyond, tuple(busiest[:MAX_THREADS]), only)
