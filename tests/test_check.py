"""The editorial check: a clean issue passes, and each rule it holds finds its own breach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from digest.analyze.embed import Embedder
from digest.config import Settings
from digest.models import Article, Citation, Issue, Note, Section, Sentence, Story, Summary, Theme
from digest.pipeline import load_embedder
from digest.write.check import RULES, check_issue
from digest.write.grounding import Grounder
from digest.write.vectors import SentenceVectors

WHEN = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


def _article(key: str, title: str, url: str, summary: str, source: str, link: str = "") -> Article:
    return Article(key, url, title, summary, source, WHEN, f"h-{key}", link=link)


LAB = _article(
    "lab",
    "Introducing Hibiki 2, live speech translation",
    "https://kyutai.org/hibiki-2",
    "Kyutai released Hibiki 2, a model that translates speech while the speaker is talking. "
    "The model runs on a phone, which means travellers can use it without a network.",
    "Kyutai Blog",
)
NEWS = _article(
    "news",
    "ElevenLabs launches Eleven v4 in 90 languages",
    "https://techcrunch.com/2026/11/16/eleven-v4",
    "ElevenLabs released Eleven v4, a text-to-speech model that supports 90 languages.",
    "TechCrunch",
    link="http://www.techcrunch.com/2026/11/16/eleven-v4/?utm_source=rss",
)
HIT = _article(
    "hit",
    "Nvidia's revenue hits $70B",
    "https://nvidianews.nvidia.com/q3",
    "Nvidia reported data center revenue of $70 billion for the quarter. Nvidia expects "
    "revenue of $88 billion next quarter.",
    "NVIDIA News",
)
PAPER = _article(
    "paper",
    "Poisoned Traces: Antidistillation Sampling",
    "https://arxiv.org/abs/2611.11385",
    "Distilled students lose up to 31 points of accuracy while the teacher loses under one.",
    "arXiv cs.CL",
)


def _cite(n: int, a: Article) -> Citation:
    return Citation(n, a.id, a.href, a.title, a.source)


def clean_issue() -> Issue:
    lab_story = Story("s-lab", LAB.title, (LAB,), link=LAB.href)
    news_story = Story("s-news", NEWS.title, (NEWS,), link=NEWS.href)
    theme = Theme(
        "speech-and-audio",
        "Speech and audio",
        ("speech",),
        (lab_story, news_story),
        slug="speech-and-audio",
    )
    summary = Summary(
        LAB.title,
        (
            Sentence(
                "Kyutai released Hibiki 2, a model that translates speech while the speaker is "
                "talking.",
                (1,),
            ),
            Sentence(
                "ElevenLabs released Eleven v4, a text-to-speech model that supports 90 languages.",
                (2,),
            ),
        ),
        (
            Sentence(
                "The model runs on a phone, which means travellers can use it without a network.",
                (1,),
            ),
        ),
        headline_link=LAB.href,
    )
    section = Section(theme, summary, (_cite(1, LAB), _cite(2, NEWS)))
    hit = Note(
        Sentence("Nvidia reported data center revenue of $70 billion for the quarter.", (1,)),
        (_cite(1, HIT),),
    )
    paper = Note(
        Sentence(
            "Distilled students lose up to 31 points of accuracy while the teacher loses under "
            "one.",
            (1,),
        ),
        (_cite(1, PAPER),),
        title="Poisoned Traces: Antidistillation Sampling",
    )
    watch = Note(
        Sentence("Nvidia expects revenue of $88 billion next quarter.", (1,)), (_cite(1, HIT),)
    )
    return Issue(
        "2026-w47",
        "digest — week 47",
        date(2026, 11, 16),
        date(2026, 11, 22),
        WHEN,
        "The week's top story: Introducing Hibiki 2, live speech translation. Also in this "
        "issue: 1 quick hit and 1 paper.",
        (section,),
        (hit,),
        (paper,),
        (watch,),
    )


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(Settings())


def _rules(issue: Issue, embedder: Embedder) -> set[str]:
    articles = {a.id: a for a in (LAB, NEWS, HIT, PAPER)}
    report = check_issue(issue, articles, Grounder(SentenceVectors(embedder.embed)))
    return {v.rule for v in report.violations}


def test_a_clean_issue_breaks_no_rule(embedder: Embedder) -> None:
    assert _rules(clean_issue(), embedder) == set()


def _section(issue: Issue, **changes: object) -> Issue:
    section = issue.sections[0]
    theme_changes = {k: v for k, v in changes.items() if k in ("name", "slug", "stories")}
    summary_changes = {k: v for k, v in changes.items() if k not in theme_changes}
    if "citations" in summary_changes:
        cites = summary_changes.pop("citations")
        section = replace(section, citations=cites)  # type: ignore[arg-type]
    section = replace(
        section,
        theme=replace(section.theme, **theme_changes),  # type: ignore[arg-type]
        summary=replace(section.summary, **summary_changes),  # type: ignore[arg-type]
    )
    return replace(issue, sections=(section,))


def _said(text: str, *cites: int) -> tuple[Sentence, ...]:
    return (Sentence(text, cites or (1,)),)


BREACHES: dict[str, Callable[[Issue], Issue]] = {
    "theme-name": lambda i: _section(i, name="Gpt-5 · https eqbench.com · Results"),
    "theme-slug": lambda i: _section(i, slug=""),
    "headline": lambda i: _section(i, headline="[D] Is Hibiki 2 the best translator?"),
    "what-happened": lambda i: _section(
        i, what_happened=_said("Does anyone know if Hibiki 2 runs on a phone?")
    ),
    "why-it-matters": lambda i: _section(
        i, why_it_matters=_said("2 sources reported it independently, among them Kyutai.")
    ),
    "sentence": lambda i: _section(
        i, technical=_said("I think Hibiki 2 is **actually** great, honestly.")
    ),
    "repeated-fact": lambda i: replace(
        i,
        quick_hits=(
            Note(
                Sentence(
                    "Kyutai released Hibiki 2, a model that translates speech while the speaker "
                    "is talking.",
                    (1,),
                ),
                (_cite(1, LAB),),
            ),
        ),
    ),
    "story-title": lambda i: _section(
        i,
        stories=(
            replace(i.sections[0].theme.stories[0], title="Show HN: Hibiki 2 &amp; more"),
            *i.sections[0].theme.stories[1:],
        ),
    ),
    "intro": lambda i: replace(i, intro="Three themes led the week."),
    "quick-hit": lambda i: replace(
        i, quick_hits=(replace(i.quick_hits[0], sentence=Sentence("Models that know it", (1,))),)
    ),
    "research": lambda i: replace(i, research=(replace(i.research[0], title=""),)),
    "watch": lambda i: replace(
        i,
        watch=(
            replace(
                i.watch[0],
                sentence=Sentence(
                    "Nvidia reported data center revenue of $70 billion for the quarter.", (1,)
                ),
            ),
        ),
        quick_hits=(),
    ),
    "link": lambda i: _section(
        i,
        citations=(
            _cite(1, LAB),
            replace(_cite(2, NEWS), url=NEWS.url),  # the canonical URL, not the source's
        ),
    ),
    "headline-link": lambda i: _section(i, headline_link=NEWS.href),
    "primary-first": lambda i: _section(
        i,
        citations=(replace(_cite(2, NEWS), number=1), replace(_cite(1, LAB), number=2)),
    ),
    "grounding": lambda i: _section(
        i,
        what_happened=(
            Sentence(
                "Kyutai released Hibiki 2, a model that translates speech while the speaker "
                "is talking.",
                (1, 2),  # [2] says nothing of it
            ),
        ),
    ),
}


def test_every_rule_is_tested() -> None:
    assert set(BREACHES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(BREACHES))
def test_each_rule_finds_its_breach(rule: str, embedder: Embedder) -> None:
    assert rule in _rules(BREACHES[rule](clean_issue()), embedder)


def test_a_repository_that_only_ranks_the_lead_story_need_not_come_first(
    embedder: Embedder,
) -> None:
    """W27's ERNIE 4.5: a benchmark's repository that ranks the release is a primary source
    of its own, not the release's; [1] may be the release's post."""
    bench = _article(
        "bench",
        "NYT Connections benchmark updated with Eleven v4",
        "https://github.com/lechmazur/nyt-connections",
        "",
        "r/LocalLLaMA",
    )
    issue = clean_issue()
    lab, news = issue.sections[0].theme.stories
    ranked = replace(news, articles=(*news.articles, bench))
    news_first = (replace(_cite(2, NEWS), number=1), replace(_cite(1, LAB), number=2))
    led = _section(issue, stories=(ranked, lab), citations=news_first)
    assert "primary-first" not in _rules(led, embedder)
