"""Quick hits and sections as the extractive writer makes them: a line of news from the post
the story is titled by, the release linked when the line comes from a thread, a heading leading
a fact, a section told from what names its story."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from digest.models import Article, Section, Story, Summary, Theme
from digest.write.extractive import ExtractiveWriter


def _embed(texts: list[str]) -> np.ndarray:
    return np.ones((len(texts), 4))


def _post(key: str, title: str, summary: str, url: str = "") -> Article:
    return Article(
        id=f"a-{key}",
        url=url or f"https://news.example.org/{key}",
        title=title,
        summary=summary,
        source="Example News",
        published_at=datetime(2026, 11, 18, tzinfo=UTC),
        content_hash=key,
    )


def test_a_line_comes_from_the_post_the_story_is_titled_by_not_one_naming_it_in_passing() -> None:
    release = _post(
        "r", "Baidu releases ERNIE 4.5 models", "Baidu released ERNIE 4.5 with ten models today."
    )
    bench = _post(
        "b",
        "Connections benchmark updated with ERNIE 4.5 and Mistral Small 3.2",
        "Mistral Small 3.2 beats ERNIE 4.5 there.",
    )
    story = Story("s-ernie", release.title, (bench, release))
    note = ExtractiveWriter(_embed).quick_hit(story)
    assert note is not None
    assert [c.article_id for c in note.citations] == ["a-r"]
    assert "Baidu released ERNIE 4.5" in note.sentence.text


def test_a_heading_with_no_line_of_its_own_leads_the_first_fact_its_post_states() -> None:
    post = _post(
        "c",
        "ChatGPT agent: bridging research and action",
        "The assistant can now browse, click and run code on a virtual computer of its own. "
        "Pro users get it first.",
    )
    note = ExtractiveWriter(_embed).quick_hit(Story("s-agent", post.title, (post,)))
    assert note is not None
    assert note.title == "ChatGPT agent: bridging research and action"
    assert note.sentence.text.startswith("The assistant can now browse")


def test_a_link_that_carries_its_title_alone_says_where_it_is_new() -> None:
    thread = "https://news.ycombinator.com/item?id=44594156"
    post = replace(
        _post("k", "Kiro: A new agentic IDE", "", url="https://kiro.dev/blog/introducing-kiro/"),
        source="Hacker News",
        discussion_url=thread,
    )
    note = ExtractiveWriter(_embed).quick_hit(Story("s-kiro", post.title, (post,)))
    assert note is not None
    assert note.sentence.text == "New on kiro.dev: \u201cKiro: A new agentic IDE\u201d."
    assert [c.url for c in note.citations] == [post.href]
    # A forum's own post with no text says nothing worth a line.
    own = replace(post, url=thread)
    assert ExtractiveWriter(_embed).quick_hit(Story("s-own", own.title, (own,))) is None


def test_a_post_that_opens_on_the_things_page_and_says_nothing_more_says_where_it_is_new() -> None:
    """W27: Apple's DiffuCoder reached r/LocalLLaMA as a post opening on its model page, the
    rest the poster's own trials; it had no quick hit. Its title is quoted as the page's news,
    as for a link post."""
    thread = "https://www.reddit.com/r/LocalLLaMA/comments/1lpoqlu/diffucoder_7b/"
    page = "https://huggingface.co/apple/DiffuCoder-7B-cpGRPO"
    post = replace(
        _post(
            "d",
            "DiffuCoder 7B - New coding diffusion LLM by Apple",
            f"[{page}]({page}) (base and instruct also available) Currently trying - and "
            "failing - to run it on Colab, but really looking forward to it!",
            url=thread,
        ),
        source="r/LocalLLaMA",
        discussion_url=thread,
    )
    note = ExtractiveWriter(_embed).quick_hit(Story("s-diffucoder", post.title, (post,)))
    assert note is not None
    assert note.sentence.text == (
        "New on huggingface.co: \u201cDiffuCoder 7B - New coding diffusion LLM by Apple\u201d."
    )
    assert [c.url for c in note.citations] == [thread]
    # Opening on a page its title does not name (the poster's own app), it says nothing.
    app = replace(post, summary=f"I made https://github.com/me/notes-app. {post.summary}")
    assert ExtractiveWriter(_embed).quick_hit(Story("s-app", app.title, (app,))) is None


def _ernie_section(benchmark_text: str) -> Section:
    """The section of ERNIE 4.5's release (a post with no text, linking its models) and a
    benchmark thread that ranks it among others, saying `benchmark_text`."""
    release = _post(
        "r",
        "Baidu releases ERNIE 4.5 models on huggingface",
        "",
        url="https://huggingface.co/collections/baidu/ernie-45",
    )
    bench = _post(
        "b",
        "Extended NYT Connections Benchmark updated with Baidu Ernie 4.5 300B A47B",
        benchmark_text,
        url="https://github.com/lechmazur/nyt-connections",
    )
    story = Story("s-ernie", release.title, (release, bench))
    return ExtractiveWriter(_embed).section(Theme("t", "ERNIE 4.5", (), (story,)))


def test_a_section_is_not_told_from_the_lede_of_another_things_page() -> None:
    """A benchmark's repository that ranks ERNIE 4.5 among others is a first-hand page, but
    not ERNIE's: its first sentence ("Mistral Small 3.2 scores 11.5") does not tell ERNIE."""
    section = _ernie_section("Mistral Small 3.2 scores 11.5 (Mistral Small 3.1 scored 11.4).")
    told = " ".join(s.text for s in section.summary.what_happened)
    assert "Mistral" not in told
    assert section.summary.headline == "Baidu releases ERNIE 4.5 models on huggingface"


def test_a_section_opens_on_its_news_before_a_fact_another_post_tells_in_passing() -> None:
    """ERNIE's release posts carry no text; the one sentence naming it is a benchmark
    thread's score. The section says what happened first, then that score."""
    section = _ernie_section(
        "Mistral Small 3.2 scores 11.5. Baidu Ernie 4.5 300B A47B scores 15.2."
    )
    said = [(s.text, [section.citations[n - 1].article_id for n in s.citations]) for s in
            section.summary.what_happened]  # fmt: skip
    assert said == [
        ("Baidu releases ERNIE 4.5 models on huggingface.", ["a-r"]),
        ("Baidu Ernie 4.5 300B A47B scores 15.2.", ["a-b"]),
    ]
    # Cited in reading order ([1] then [2]): the benchmark's repository, a primary source of
    # its own, is not the release's, so it is not put first.
    assert [s.citations for s in section.summary.what_happened] == [(1,), (2,)]


def test_a_title_that_only_labels_gives_way_to_a_short_sentence_that_states_the_news() -> None:
    """Grok 4's story is titled by a benchmark post; a sentence of its sources says what
    happened, short enough to head the entry, and does."""
    bench = _post(
        "g",
        "Grok 4 on Fiction.liveBench Long Context Comprehension",
        "xAI has just announced its smartest AI models to date: Grok 4 and Grok 4 Heavy.",
    )
    story = Story("s-grok", bench.title, (bench,))
    section = ExtractiveWriter(_embed).section(Theme("t", "Grok 4", (), (story,)))
    assert section.summary.headline == (
        "xAI has just announced its smartest AI models to date: Grok 4 and Grok 4 Heavy"
    )


def test_a_story_told_by_titles_alone_adds_another_outlets_report_to_its_headline() -> None:
    """W27: Meta's hires reached the week as links with no text; what happened was the
    heading again. Another press report's title that states a fact follows it; a blog's
    shouting one does not."""
    wired = _post(
        "w",
        "Here is everyone Mark Zuckerberg has hired so far for Meta's superintelligence team",
        "",
        url="https://www.wired.com/story/mark-zuckerberg-welcomes-superintelligence-team/",
    )
    shout = _post(
        "s", "META'S AI AVENGERS ASSEMBLE, ZUCK'S $29B GAMBIT!", "", url="https://algogist.com/m"
    )
    altman = _post(
        "a",
        "Sam Altman slams Meta's AI talent poaching: 'Missionaries will beat mercenaries'",
        "",
        url="https://www.wired.com/story/sam-altman-meta-ai-talent-poaching/",
    )
    story = Story("s-meta", wired.title, (wired, shout, altman))
    section = ExtractiveWriter(_embed).section(Theme("t", "AI business", (), (story,)))
    said = [(s.text, [section.citations[n - 1].article_id for n in s.citations]) for s in
            section.summary.what_happened]  # fmt: skip
    assert said == [
        (f"{wired.title}.", ["a-w"]),
        (f"{altman.title}.", ["a-a"]),
    ]


def test_the_intro_joins_the_top_headlines_as_one_sentence() -> None:
    """W27 and W28's intros read "...; and A project to bring CUDA ..." and "...; and SmolLM3
    has day-0 support in MistralRS!. Also in this issue ..."."""
    heads = [
        "Baidu releases ERNIE 4.5 models on huggingface",
        "A project to bring CUDA to non-Nvidia GPUs is making major progress",
        "SmolLM3 has day-0 support in MistralRS!",
    ]
    sections = [
        Section(Theme(f"t{n}", f"Theme {n}", (), ()), Summary(h, (), ()), ())
        for n, h in enumerate(heads)
    ]
    intro = ExtractiveWriter(_embed).intro(sections, quick_hits=12)
    assert intro == (
        "The week's top stories: Baidu releases ERNIE 4.5 models on huggingface; a project to "
        "bring CUDA to non-Nvidia GPUs is making major progress; and SmolLM3 has day-0 support "
        "in MistralRS. Also in this issue: 12 quick hits."
    )
