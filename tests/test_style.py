"""The house style: headlines, facts, news lines, consequences, theme names and topics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digest.analyze.topics import (
    FALLBACK_NAME,
    TopicNamer,
    load_topics,
    readable_name,
    telling_phrase,
)
from digest.crawl.articles import make_article
from digest.errors import ConfigError
from digest.models import Source
from digest.primary import is_primary, own_post
from digest.write.intro import intro_faults
from digest.write.sentences import source_sentences
from digest.write.style import (
    clean_title,
    headline_faults,
    news_line_faults,
    sentence_faults,
    states_consequence,
)
from tests.issues import _article


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("[D] Kimi K2 is out &amp; it&#39;s **great**", "Kimi K2 is out & it's great"),
        ("Show HN: MCP-B, a protocol for browser agents", "MCP-B, a protocol for browser agents"),
        ("RekaAI/reka-flash-3.1 · Hugging Face", "RekaAI/reka-flash-3.1"),
        ("Grok 4 seems to consult Elon Musk | TechCrunch", "Grok 4 seems to consult Elon Musk"),
        ("xAI launches Grok 4", "xAI launches Grok 4"),
        ("DeepSWE-Preview | 59.0% on SWE-Bench-Verified", "DeepSWE-Preview | 59.0% on "
         "SWE-Bench-Verified"),
        ("First Hugging Face robot: Reachy Mini. Hackable yet easy", "First Hugging Face robot: "
         "Reachy Mini"),
        ("13 died amid U.K. Post Office scandal", "13 died amid U.K. Post Office scandal"),
        ("Kyutai Unmute (incl. TTS) released", "Kyutai Unmute (incl. TTS) released"),
        ("Huawei releases an open weight model Pangu Pro 72B A16B. Weights are on HF. It should be "
         "competitive with Qwen3 32B and it was trained entirely on Huawei Ascend NPUs.",
         "Huawei releases an open weight model Pangu Pro 72B A16B"),
    ],
)  # fmt: skip
def test_titles_become_clean_headlines(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


@pytest.mark.parametrize(
    "headline",
    [
        "What drives progress in newer LLMs?",
        "Is Kimi K2 the best open model",
        "GROK 4 IS NOW LIVE ON LMARENA",
        "We have to delay it",
        "Kimi K2 is out &amp; great",
        "[D] Grok 4 launches",
        "Grok",
    ],
)
def test_questions_asides_shouting_and_leftovers_are_no_headlines(headline: str) -> None:
    assert headline_faults(headline)


@pytest.mark.parametrize(
    "sentence",
    [
        "Any serious hardware suggestions here would be much appreciated.",
        "Free ChatGPT is actually much better in this regard.",
        "Initialize the embedding spk_emb = torch.randn(1, 512) to start.",
        "I tried Kimi K2 for writing and was not impressed.",
        "Does anyone know how Kimi K2 compares with DeepSeek V3?",
        "Just early scaffolding and dreams.",
        "The weights are on **Hugging Face** now.",
        "See https://example.com/kimi for the weights.",
        "2 sources reported it independently, among them Reddit and HN.",
        "Why it matters: the model is open.",
        "Current i have 96 GB RAM so next step is to get some cheap VRAM.",
        "Im going to be running mostly 7b -14b parameter models.",
    ],
)
def test_what_happened_takes_no_questions_asides_code_markdown_or_filler(sentence: str) -> None:
    assert sentence_faults(sentence)


def test_a_plain_statement_of_fact_passes() -> None:
    fact = "Moonshot AI released Kimi K2, a mixture-of-experts model with 1 trillion parameters."
    assert sentence_faults(fact) == []
    listed = "The card supports two modes, i.e. (i) one GPU of 48 GB and (ii) two of 24 GB."
    assert sentence_faults(listed) == []
    assert news_line_faults("OpenAI's Windsurf deal is off, and its CEO is going to Google") == []


@pytest.mark.parametrize(
    "line", ["Models that know they're being tested", "Adding a feature because ChatGPT thinks it"
             " exists", "Anthropic: 31k fake accounts used to distill Claude. Thoughts?"],
)  # fmt: skip
def test_quick_hits_are_no_headings_or_teasers(line: str) -> None:
    assert news_line_faults(line)


def test_why_it_matters_needs_a_stated_consequence() -> None:
    assert states_consequence(
        "At $0.55 per million tokens, DeepSeek-R3 undercuts the closed models, which will put "
        "pressure on OpenAI's pricing."
    )
    assert not states_consequence("The European Commission published its guidelines on Friday.")
    assert not states_consequence("You will need to change the code for your model.")


def test_intro_names_the_top_stories_in_two_or_three_sentences() -> None:
    heads = ["Moonshot releases Kimi K2", "xAI launches Grok 4"]
    good = "The week's top stories: Moonshot releases Kimi K2; and xAI launches Grok 4. Also: more."
    assert intro_faults(good, heads) == []
    assert intro_faults("Kimi K2 is out. Grok 4 too. A lot. More.", heads)
    assert any("Grok 4" in f for f in intro_faults("Kimi K2 is out. That is all.", heads))


def test_source_text_loses_markdown_bullets_and_reference_marks() -> None:
    text = (
        "**Kimi K2** is [out](https://x.example) now.\n* Bullet one says a thing.\nAs shown [12]."
    )
    assert source_sentences(text) == [
        "Kimi K2 is out now.",
        "Bullet one says a thing.",
        "As shown.",
    ]


def test_a_forum_posts_greeting_is_no_part_of_its_first_sentence() -> None:
    """W28's Reka quick hit read "...quantisation: Hi everyone, Reka just open-sourced ..."."""
    text = "Hi everyone, Reka just open-sourced a new quantisation method.\nHey LocalLlama!"
    assert source_sentences(text) == [
        "Reka just open-sourced a new quantisation method.",
        "Hey LocalLlama!",
    ]
    assert source_sentences("Hi-res audio models arrive.") == ["Hi-res audio models arrive."]


def test_a_list_run_into_one_line_gives_no_sentences() -> None:
    """W27's KrunchWrapper quick hit read "... what KrunchWrapper essentially does is: 1.", then
    "Receive: Establishes a proxy server ... to a LLM server 2."."""
    text = (
        "KrunchWrapper compresses prompts on the fly. At its core, what it does is: 1. "
        "Receive: Establishes a proxy server for prompts 2. Analyze: Finds repeated code 3. "
        "Compress: Swaps it for short symbols."
    )
    assert source_sentences(text) == ["KrunchWrapper compresses prompts on the fly."]
    assert source_sentences("Meta released Llama 3. It is open.") == [
        "Meta released Llama 3.",
        "It is open.",
    ]


def test_the_link_a_source_gave_is_kept_beside_the_canonical_url() -> None:
    source = Source("Blog", "feed", "https://blog.example.com/feed")
    given = "http://www.blog.example.com/post/?utm_source=rss"
    article = make_article(source, given, "A post", "", None, __import__("datetime").datetime.now())
    assert article is not None
    assert article.url == "https://blog.example.com/post" and article.href == given
    same = make_article(source, article.url, "A post", "", None, article.published_at)
    assert same is not None and same.link == "" and same.href == article.url


def test_primary_sources_are_the_thing_itself() -> None:
    lab = _article("lab-1", "Introducing Llama 5", "https://ai.meta.com/blog/llama-5/", "")
    assert is_primary(lab) and own_post(lab.__class__(**{**lab.__dict__, "source": "Meta AI"}))
    for url in ("https://arxiv.org/abs/2507.01234", "https://github.com/MoonshotAI/Kimi-K2",
                "https://huggingface.co/moonshotai/Kimi-K2-Instruct"):  # fmt: skip
        assert is_primary(_article("p-1", "x", url, ""))
    news = _article("news-1", "Meta ships Llama 5", "https://techcrunch.com/2026/llama-5", "")
    assert not is_primary(news)
    assert not own_post(_article("hn-1", "x", "https://api-docs.deepseek.com/news", ""))


@pytest.mark.parametrize("name", ["Gpt-5 · https eqbench.com · Results", "https", "4.1", "v2 3.5"])
def test_theme_names_are_never_urls_versions_or_keyword_lists(name: str) -> None:
    assert not readable_name(name)


def test_fallback_name_is_the_most_telling_noun_phrase() -> None:
    surface = {"https": "https", "added": "Added", "kimi k2": "Kimi K2", "grok": "Grok"}
    assert telling_phrase(["https", "added", "grok", "kimi k2"], surface.__getitem__) == "Kimi K2"
    assert telling_phrase(["https", "4.1", "added"], lambda t: t) == FALLBACK_NAME


def test_topics_each_name_one_theme_and_keep_their_slugs() -> None:
    topics = load_topics()
    names = {t.slug: t.name for t in topics}
    assert names["speech-and-audio"] == "Speech and audio" and len(names) == len(topics) >= 20
    speech = next(i for i, t in enumerate(topics) if t.slug == "speech-and-audio")

    def embed(texts: object) -> np.ndarray:
        return np.eye(len(topics))  # each description its own direction

    namer = TopicNamer(topics, embed)
    near = np.eye(len(topics))[speech]
    named = namer.names([near, near, np.zeros(len(topics))], ["Voices", "Kimi K2", "Kimi K2"])
    assert named[0] == ("Speech and audio", "speech-and-audio")  # the closest theme takes it
    assert named[1] == ("Kimi K2", "kimi-k2") and named[2] == ("Kimi K2", "kimi-k2-2")


def test_editor_topics_add_to_and_replace_the_built_in_ones(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        '[[topic]]\nname = "Voice AI"\nslug = "speech-and-audio"\n'
        'description = "Speech models, voices and audio generation."\n'
        '[[topic]]\nname = "Chip export rules"\nslug = "chip-exports"\n'
        'description = "Export controls on AI chips to China."\n'
    )
    topics = {t.slug: t.name for t in load_topics(path)}
    assert (
        topics["speech-and-audio"] == "Voice AI" and topics["chip-exports"] == "Chip export rules"
    )
    path.write_text('[[topic]]\nname = "A · B"\nslug = "Bad Slug"\ndescription = "x y z w."\n')
    with pytest.raises(ConfigError, match=r"topics.toml: topic 1 \(A · B\): give a name"):
        load_topics(path)
