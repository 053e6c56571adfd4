"""The offline writer: sentences chosen from the sources themselves, each cited to who said it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digest.models import Article, Citation, Note, Section, Sentence, Story, Summary, Theme
from digest.write import EmbedTexts
from digest.write.sentences import quotable, split_sentences

# Phrases with which sources say why something matters.
_SIGNIFICANCE = re.compile(
    r"\b(means?|matters?|could|would|will|allows?|lets|enables?|first|cheaper|faster|"
    r"risks?|pressure|signals?|implications?|impact|for (?:developers|users|companies|teams|"
    r"enterprises|researchers|startups)|shift|threat|cost|competition|open[- ]weight)\b",
    re.IGNORECASE,
)
SUPPORT = 0.6  # a sentence is supported by another article when one of its sentences is this close
LEDE_BONUS = 0.05


@dataclass(frozen=True)
class _Candidate:
    text: str
    article: Article
    position: int


# Openings that lean on a sentence we will not show ("It reports...", "We trained...").
_DEPENDENT = re.compile(r"^(?:It|Its|They|Their|He|She|We|Our|I|But|And|Also)\b")


def _candidates(articles: Sequence[Article]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for article in articles:
        for position, text in enumerate(split_sentences(article.summary)):
            if quotable(text) and not _DEPENDENT.match(text):
                found.append(_Candidate(text, article, position))
    return found


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class _Numbering:
    """Citation numbers in order of first use within one section."""

    def __init__(self) -> None:
        self.by_article: dict[str, Citation] = {}

    def cite(self, articles: Sequence[Article]) -> tuple[int, ...]:
        numbers: list[int] = []
        for a in articles:
            if a.id not in self.by_article:
                n = len(self.by_article) + 1
                self.by_article[a.id] = Citation(n, a.id, a.url, a.title, a.source)
            numbers.append(self.by_article[a.id].number)
        return tuple(dict.fromkeys(numbers))

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(self.by_article.values())


class ExtractiveWriter:
    """Picks central sentences for "what happened" and cue-bearing ones for "why it matters"."""

    def __init__(self, embed: EmbedTexts, stories_per_theme: int = 4) -> None:
        self._embed = embed
        self._stories_per_theme = stories_per_theme
        self._used: set[str] = set()

    def _fresh(self, candidates: list[_Candidate]) -> list[_Candidate]:
        return [c for c in candidates if _key(c.text) not in self._used]

    def _supporters(
        self, chosen: int, story: Story, candidates: list[_Candidate], vectors: np.ndarray
    ) -> list[Article]:
        """The chosen sentence's own article first, then others that say the same."""
        own = candidates[chosen].article
        sims = vectors @ vectors[chosen]
        backing = [own]
        for article in story.articles:
            if article.id == own.id:
                continue
            rows = [i for i, c in enumerate(candidates) if c.article.id == article.id]
            if rows and float(sims[rows].max()) >= SUPPORT:
                backing.append(article)
        return backing

    def section(self, theme: Theme) -> Section:
        numbering = _Numbering()
        stories = theme.stories[: self._stories_per_theme]
        happened: list[Sentence] = []
        pool: list[tuple[_Candidate, np.ndarray, Story]] = []
        for story in stories:
            candidates = self._fresh(_candidates(story.articles))
            if not candidates:
                self._used.add(_key(story.title))
                happened.append(Sentence(f"{story.title}.", numbering.cite(story.articles[:1])))
                continue
            vectors = self._embed([c.text for c in candidates])
            centroid = vectors.mean(axis=0)
            lede = np.array([LEDE_BONUS if c.position == 0 else 0.0 for c in candidates])
            best = int(np.argmax(vectors @ centroid + lede))
            self._used.add(_key(candidates[best].text))
            backing = self._supporters(best, story, candidates, vectors)
            happened.append(Sentence(candidates[best].text, numbering.cite(backing)))
            pool.extend(
                (c, v, story)
                for i, (c, v) in enumerate(zip(candidates, vectors, strict=True))
                if i != best
            )
        why = self._why_it_matters(theme, pool, numbering)
        summary = Summary(theme.stories[0].title, tuple(happened), tuple(why))
        return Section(theme, summary, numbering.citations)

    def _why_it_matters(
        self,
        theme: Theme,
        pool: list[tuple[_Candidate, np.ndarray, Story]],
        numbering: _Numbering,
    ) -> list[Sentence]:
        chosen: list[Sentence] = []
        if pool:
            centroid = np.mean([v for _, v, _ in pool], axis=0)
            scored = []
            for candidate, vector, story in pool:
                cues = len(_SIGNIFICANCE.findall(candidate.text))
                if cues:
                    scored.append((min(cues, 3) * 0.2 + float(vector @ centroid), candidate, story))
            scored.sort(key=lambda item: -item[0])
            stories_used: set[str] = set()
            for _, candidate, story in scored:
                if story.id in stories_used or _key(candidate.text) in self._used:
                    continue
                self._used.add(_key(candidate.text))
                stories_used.add(story.id)
                chosen.append(Sentence(candidate.text, numbering.cite([candidate.article])))
                if len(chosen) == 2:
                    break
        if not chosen:
            top = theme.stories[0]
            names = " and ".join(top.sources[:2]) if len(top.sources) > 1 else top.sources[0]
            text = (
                f"{len(top.sources)} of this week's sources covered it, including {names}."
                if len(top.sources) > 1
                else f"It was reported by {names}; watch for confirmation from other outlets."
            )
            firsts = list({a.source: a for a in reversed(top.articles)}.values())[::-1]
            chosen.append(Sentence(text, numbering.cite(firsts[:2])))
        return chosen

    def quick_hit(self, story: Story) -> Note:
        numbering = _Numbering()
        numbers = numbering.cite(story.articles[:3])
        return Note(Sentence(story.title, numbers), numbering.citations)

    def intro(self, sections: Sequence[Section], quick_hits: int) -> str:
        if not sections:
            return "A quiet week: no theme drew enough coverage to stand on its own."
        names = [s.theme.name for s in sections[:3]]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        stories = sum(len(s.theme.stories) for s in sections)
        sources = len({a.source for s in sections for st in s.theme.stories for a in st.articles})
        more = f" Plus {quick_hits} quick hits." if quick_hits else ""
        return (
            f"This week's big themes: {listed}. {len(sections)} themes, {stories} stories, "
            f"from {sources} sources.{more}"
        )
