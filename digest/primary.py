"""Primary sources: the lab's own page, the paper, the repository, as opposed to coverage."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from digest.models import Article

# Hosts where AI labs and companies publish their own announcements.
FIRST_PARTY_HOSTS = frozenset(
    [
        "openai.com",
        "anthropic.com",
        "deepmind.google",
        "blog.google",
        "ai.google.dev",
        "research.google",
        "ai.meta.com",
        "about.fb.com",
        "mistral.ai",
        "qwenlm.github.io",
        "qwen.ai",
        "moonshotai.github.io",
        "deepseek.com",
        "api-docs.deepseek.com",
        "x.ai",
        "nvidia.com",
        "nvidianews.nvidia.com",
        "blogs.nvidia.com",
        "microsoft.com",
        "blogs.microsoft.com",
        "azure.microsoft.com",
        "machinelearning.apple.com",
        "ollama.com",
        "cohere.com",
        "ai21.com",
        "stability.ai",
        "elevenlabs.io",
        "runwayml.com",
        "figure.ai",
        "kyutai.org",
        "allenai.org",
        "huggingface.co",
        "together.ai",
        "groq.com",
        "cerebras.ai",
        "perplexity.ai",
        "z.ai",
        "minimax.io",
        "bfl.ai",
        "ai.google",
        "blog.research.google",
    ]
)
_PAPER = re.compile(r"^(?:arxiv\.org/(?:abs|pdf|html)/|openreview\.net/|aclanthology\.org/)")
_REPOSITORY = re.compile(r"^(?:github\.com|gitlab\.com|codeberg\.org)/[\w.-]+/[\w.-]+/?$")
_MODEL_PAGE = re.compile(r"^huggingface\.co/(?!blog/|papers/|spaces/|docs/)[\w.-]+/[\w.-]+/?$")
_FORUMS = ("reddit.com", "news.ycombinator.com", "lobste.rs")
URL_IN_TEXT = re.compile(r"https?://[^\s)\]>\"']+")
OPENING_CHARS = 400  # of a forum post's own text, read as its opening


@lru_cache(maxsize=1 << 16)  # a week's posts are asked about their link many times each
def _host_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for prefix in ("www.", "m."):
        host = host.removeprefix(prefix)
    return host, f"{host}{parts.path}"


def is_model_page(url: str) -> bool:
    """Whether the URL is a model's page on Hugging Face."""
    return _MODEL_PAGE.match(_host_path(url)[1]) is not None


def is_paper_link(url: str) -> bool:
    return _PAPER.match(_host_path(url)[1]) is not None


def is_primary(article: Article) -> bool:
    """Whether the article is the thing itself: a lab's or company's own page, a paper, a code
    repository or a model's page, not a report or a discussion of it."""
    return primary_url(article.url)


def primary_url(url: str) -> bool:
    """Whether the URL is of the thing itself (see `is_primary`)."""
    host, where = _host_path(url)
    if _PAPER.match(where) or _REPOSITORY.match(where) or _MODEL_PAGE.match(where):
        return True
    if host == "huggingface.co":
        return where.startswith("huggingface.co/blog/")
    labels = host.split(".")
    return any(".".join(labels[i:]) in FIRST_PARTY_HOSTS for i in range(len(labels) - 1))


def self_post(article: Article) -> bool:
    """A forum's own post (its text is all there is), not a link to something published."""
    return article.url == article.discussion_url or _host_path(article.url)[0].endswith(_FORUMS)


def opening_link(article: Article) -> str | None:
    """The thing's own page (see `primary_url`) that a forum's own post links first, in its
    opening, when the post's title names it: such a post is a post of that link in all but
    form ("Huawei's Pangu AI rocked by claims of fraud": "[github.com/HW-whistleblower/
    True-Story-of-Pangu] after reading ..."). A post that first links something else (the
    poster's blog, or the poster's own app in a post about llama.cpp's speed) is not."""
    if not self_post(article):
        return None
    first = URL_IN_TEXT.search(article.summary[:OPENING_CHARS])
    if first is None or not primary_url(first[0]):
        return None
    return first[0] if names_page(first[0], article.title) else None


def names_page(url: str, title: str) -> bool:
    """Whether the address carries one of the title's capitalised names ("Kiro" on kiro.dev,
    "ERNIE" in huggingface.co/baidu/ERNIE-4.5, "Pangu" in .../True-Story-of-Pangu)."""
    where = url.lower()
    return any(w.lower() in where for w in re.findall(r"\b[A-Z][\w-]{2,}", title))


_LABEL_NOISE = frozenset({"com", "org", "net", "www", "blog", "blogs", "news", "api", "docs"})


# A page title's last part naming where it was published: "... - VideoCardz.com", "... | Wired".
_BYLINE = re.compile(r"\s[|\u2013\u2014-]\s[^|\u2013\u2014]+$")


def names_its_site(article: Article) -> bool:
    """Whether the page is on a site its title names: "Kiro: A new agentic IDE" on kiro.dev,
    not a press page that signs its title ("MAXSUN preparing ... - VideoCardz.com")."""
    host, _ = _host_path(article.url)
    labels = [x for x in host.split(".")[:-1] if len(x) >= 4 and x not in _LABEL_NOISE]
    title = article.title.lower()
    if (signed := _BYLINE.search(title)) and any(x in signed[0] for x in labels):
        title = title[: signed.start()]
    words = set(re.findall(r"[a-z0-9]+", title))
    return any(x in words for x in labels)


def own_post(article: Article) -> bool:
    """Whether the article is a source's own post (a lab's feed item on the lab's site), not a
    link another source posted: the source's name holds the site's name ('OpenAI Blog' on
    openai.com, 'arXiv cs.CL' on arxiv.org)."""
    host, _ = _host_path(article.url)
    squashed = re.sub(r"[^a-z0-9]", "", article.source.lower())
    labels = [x for x in host.split(".") if len(x) >= 4 and x not in _LABEL_NOISE]
    return any(x.replace("-", "") in squashed for x in labels)
