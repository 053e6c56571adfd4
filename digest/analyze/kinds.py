"""What kind of post an article is (news, a release, help wanted) and whether it is about AI."""

from __future__ import annotations

import re
from collections.abc import Sequence

from digest.families import PRESS, hosted, link_outlet, publisher
from digest.models import Article, Story
from digest.primary import (
    OPENING_CHARS,
    URL_IN_TEXT,
    is_model_page,
    names_its_site,
    self_post,
)

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
    r"need help|help\b|noob|newbie|beginner|looking for|recommend|advice\b|"
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
# A title that tells of a release or a launch (on dev, 25 of 32 such r/LocalLLaMA posts are
# flaired "New Model", "News" or "Resources").
_ANNOUNCES = re.compile(
    r"\b(?:releas(?:ed|es)|launch(?:ed|es)|announc(?:ed|es)|open[- ]sourc(?:ed|es)|"
    r"introduc(?:ed|es)|unveil(?:ed|s)|is (?:out|here|live)|now (?:available|open[- ]source)|"
    r"just dropped)\b",
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
_LINK = re.compile(r"\S*https?://\S*")  # a link's query ("?width=680") asks nothing
QUESTION_CHARS = 400  # of a forum post's own text, where a question makes it a request for help


def post_kind(article: Article) -> str:
    """What the post is: its flair's kind where it has one, else what its title shows
    ("help", "showoff"), else for a forum's own post "release" when it links a model's page
    early, "help" when it asks a question early, "news" when its title announces something and
    "discussion" when not; else what it links: a model's page is a release, the press's report
    news (as r/LocalLLaMA flairs 31 of 35 and 7 of 9 of those on dev), as is a title that
    announces; else "" (a link to something else published)."""
    if (kind := _flaired_kind(article)) is not None:
        return kind
    if _HELP.search(article.title.strip()):
        return "help"
    if _SHOWOFF.search(article.title):
        return "showoff"
    announces = _ANNOUNCES.search(article.title) is not None
    if self_post(article):
        # A post of the forum's own that links a model's page early on releases it; one that
        # asks something early on is a request for help.
        opening = article.summary[:OPENING_CHARS]
        if any(is_model_page(url) for url in URL_IN_TEXT.findall(opening)):
            return "release"
        text = _LINK.sub(" ", article.summary)
        if "?" in text[:QUESTION_CHARS] or _HELP.search(re.split(r"[.!?\n]", text.strip())[0]):
            return "help"
        return "news" if announces else "discussion"
    if is_model_page(article.url):
        return "release"
    linked = link_outlet(article.url)
    return "news" if announces or (linked is not None and linked.type == PRESS) else ""


def about_ai(article: Article) -> bool:
    """Whether the title or the start of the text speaks of AI."""
    text = f"{article.title}. {article.summary[:ABOUT_AI_CHARS]}"
    return bool(_AI_UPPER.search(text) or _AI_WORDS.search(text))


def outlet(article: Article) -> str:
    """Who reported it, for counting outlets: its publisher family, but a repository or
    model page is the thing reported (the first-party bonus counts it), so a post linking one
    counts as the source that posted it: three model pages in one thread are not three
    outlets."""
    return article.source if hosted(article.url) else publisher(article)


def own_site(article: Article) -> bool:
    """A link to the site of the thing it announces ("Kiro: A new agentic IDE" on kiro.dev),
    not to the press, a forum or a host of others' pages, which may name themselves."""
    return not self_post(article) and link_outlet(article.url) is None and names_its_site(article)


def news_articles(story: Story) -> tuple[Article, ...]:
    """The story's articles without its help threads: none when every article reads as one,
    else all but those the forum itself flaired as help (a release post that ends on "who's
    running it?" is still a source of the news)."""
    return tuple(a for a, _ in news_of([(a, post_kind(a)) for a in story.articles]))


def news_of(typed: Sequence[tuple[Article, str]]) -> tuple[tuple[Article, str], ...]:
    """`news_articles` of articles given with their `post_kind`, each kept with its kind."""
    if all(k in NOT_NEWS for _, k in typed):
        return ()
    return tuple((a, k) for a, k in typed if not _asks_for_help(a, k))


def _asks_for_help(article: Article, kind: str) -> bool:
    """A help thread (its `post_kind` given): flaired so, or read so from a title that does not
    open with news."""
    if (flaired := _flaired_kind(article)) is not None:
        return flaired in NOT_NEWS
    head = _CLAUSE.split(article.title.strip(), maxsplit=1)
    return kind in NOT_NEWS and not (len(head) > 1 and not _HELP.search(head[0]))


def _flaired_kind(article: Article) -> str | None:
    """The post's kind as its flair gives it, if it has a known one."""
    kinds = (FLAIR_KIND.get(tag.strip().lower()) for tag in article.tags)
    return next((k for k in kinds if k is not None), None)
