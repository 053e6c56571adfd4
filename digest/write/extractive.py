"""The offline writer: sentences chosen from the sources themselves, each cited to who said it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from digest.models import Article, Citation, Note, Section, Sentence, Story, Summary, Theme
from digest.write import EmbedTexts
from digest.write.cues import (
    first_person,
    names,
    relative_time,
    significance,
    stakes,
    takeaway,
    technical,
)
from digest.write.sentences import normalise, quotable, split_sentences, standalone
from digest.write.vectors import remembering

SUPPORT = 0.6  # a sentence is supported by another article when one of its sentences is this close
LEDE_BONUS = 0.05
CUE_WEIGHT = 0.2
NAME_WEIGHT = 0.15
FIRST_PERSON_PENALTY = 0.3
QUICK_HIT_CHARS = 220


@dataclass(frozen=True)
class _Candidate:
    text: str
    article: Article
    position: int
    story: Story


def from_paper(article: Article) -> bool:
    """Whether the article is a paper's abstract (arXiv), told in the authors' "we"."""
    return urlsplit(article.url).hostname in ("arxiv.org", "www.arxiv.org") or (
        "arxiv" in article.source.lower()
    )


def _candidates(story: Story) -> list[_Candidate]:
    found: list[_Candidate] = []
    for article in story.articles:
        paper = from_paper(article)
        for position, said in enumerate(split_sentences(article.summary)):
            text = third_person(said) if paper else said
            if quotable(text) and standalone(text):
                found.append(_Candidate(text, article, position, story))
    return found


def _fit(candidate: _Candidate) -> float:
    """How well a sentence tells its story on its own: names it, speaks of it, states results."""
    text, story = candidate.text, candidate.story
    score = NAME_WEIGHT * names(text, story.title)
    score -= FIRST_PERSON_PENALTY if first_person(text) else 0.0
    score -= FIRST_PERSON_PENALTY if relative_time(text) else 0.0
    if from_paper(candidate.article):
        score += CUE_WEIGHT * min(takeaway(text), 2)
    return score + (LEDE_BONUS if candidate.position == 0 else 0.0)


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


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class ExtractiveWriter:
    """Central sentences for "what happened", cue-bearing ones for the sections after it.

    One writer writes one issue: it remembers every sentence it used, so none is repeated.
    """

    def __init__(self, embed: EmbedTexts, stories_per_theme: int = 4) -> None:
        self._embed = remembering(embed)
        self._stories_per_theme = stories_per_theme
        self.used: set[str] = set()

    def prepare(self, themes: Sequence[Theme]) -> None:
        """Embed the candidate sentences of every story the sections will tell, in one go."""
        stories = [s for t in themes for s in t.stories[: self._stories_per_theme]]
        self._embed.prefetch(c.text for s in stories for c in _candidates(s))

    def _take(self, text: str) -> None:
        self.used.add(normalise(text))

    def _fresh(self, candidates: list[_Candidate]) -> list[_Candidate]:
        return [c for c in candidates if normalise(c.text) not in self.used]

    def _supporters(
        self, chosen: int, candidates: list[_Candidate], vectors: np.ndarray
    ) -> list[Article]:
        """The chosen sentence's own article first, then others of its story that say the same."""
        own = candidates[chosen].article
        sims = vectors @ vectors[chosen]
        backing = [own]
        for article in candidates[chosen].story.articles:
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
        pool: list[tuple[_Candidate, np.ndarray]] = []
        for story in stories:
            candidates = self._fresh(_candidates(story))
            if not candidates:
                self._take(story.title)
                happened.append(Sentence(f"{story.title}.", numbering.cite(story.articles[:1])))
                continue
            vectors = self._embed([c.text for c in candidates])
            centroid = vectors.mean(axis=0)
            fit = np.array([_fit(c) for c in candidates])
            best = int(np.argmax(vectors @ centroid + fit))
            self._take(candidates[best].text)
            backing = self._supporters(best, candidates, vectors)
            happened.append(Sentence(candidates[best].text, numbering.cite(backing)))
            pool.extend(
                (c, v)
                for i, (c, v) in enumerate(zip(candidates, vectors, strict=True))
                if i != best
            )
        why = self._pick(pool, significance, numbering, 2)
        if not why:
            why = self._coverage(theme, numbering)
        detail = self._pick(pool, technical, numbering, 2)
        who = self._pick(pool, stakes, numbering, 2)
        summary = Summary(
            theme.stories[0].title, tuple(happened), tuple(why), tuple(detail), tuple(who)
        )
        return Section(theme, summary, numbering.citations)

    def _pick(
        self,
        pool: list[tuple[_Candidate, np.ndarray]],
        cue: Callable[[str], int],
        numbering: _Numbering,
        most: int,
    ) -> list[Sentence]:
        """Up to `most` unused sentences bearing the cue, from different stories, best first."""
        if not pool:
            return []
        centroid = np.mean([v for _, v in pool], axis=0)
        scored = []
        for candidate, vector in pool:
            if first_person(candidate.text) or relative_time(candidate.text):
                continue
            strength = cue(candidate.text)
            if strength:
                score = min(strength, 3) * CUE_WEIGHT + float(vector @ centroid)
                scored.append((score, candidate))
        scored.sort(key=lambda item: -item[0])
        chosen: list[Sentence] = []
        stories_used: set[str] = set()
        for _, candidate in scored:
            if candidate.story.id in stories_used or normalise(candidate.text) in self.used:
                continue
            self._take(candidate.text)
            stories_used.add(candidate.story.id)
            chosen.append(Sentence(candidate.text, numbering.cite([candidate.article])))
            if len(chosen) == most:
                break
        return chosen

    def _coverage(self, theme: Theme, numbering: _Numbering) -> list[Sentence]:
        """When no source says why it matters: how widely the lead story was reported."""
        top = theme.stories[0]
        firsts = list({a.source: a for a in reversed(top.articles)}.values())[::-1]
        names = _listed([a.source for a in firsts[:3]])
        text = (
            f"{len(top.sources)} sources reported it independently, among them {names}."
            if len(top.sources) > 1
            else f"Only {names} has reported it so far; look for confirmation elsewhere."
        )
        return [Sentence(text, numbering.cite(firsts[:3]))]

    def quick_hit(self, story: Story) -> Note:
        """One line: the story's best short lede sentence that names it, else its headline."""
        numbering = _Numbering()
        short = [
            c
            for c in self._fresh(_candidates(story))
            if len(c.text) <= QUICK_HIT_CHARS and not first_person(c.text)
        ]
        ranked = sorted(short, key=lambda c: (-_fit(c), c.position, len(c.text)))
        if ranked and names(ranked[0].text, story.title) > 0:
            best = ranked[0]
            self._take(best.text)
            return Note(Sentence(best.text, numbering.cite([best.article])), numbering.citations)
        self._take(story.title)
        return Note(Sentence(story.title, numbering.cite(story.articles[:3])), numbering.citations)

    def paper(self, story: Story) -> Note:
        """The paper's finding in one line: its abstract's sentence with the strongest result."""
        numbering = _Numbering()
        article = next((a for a in story.articles if from_paper(a)), story.articles[0])
        lines = [third_person(s) for s in split_sentences(article.summary)]
        fresh = [s for s in lines if quotable(s) and normalise(s) not in self.used]
        best = max(fresh or [article.title], key=lambda s: (takeaway(s), -len(s)))
        self._take(best)
        return Note(Sentence(best, numbering.cite([article])), numbering.citations)

    def intro(self, sections: Sequence[Section], quick_hits: int) -> str:
        """The big themes by name, each with its lead story, then what else the issue holds."""
        if not sections:
            return "A quiet week: no theme drew enough coverage to stand on its own."
        lead = sections[:3]
        count = {1: "One theme", 2: "Two themes", 3: "Three themes"}[len(lead)]
        parts = [f"{count} led the week."]
        parts += [f"{theme_label(s.theme)}: {_unstop(s.summary.headline)}." for s in lead]
        rest = [theme_label(s.theme, capital=False) for s in sections[3:]]
        extras = [f"{quick_hits} quick hits"] if quick_hits else []
        if rest:
            parts.append(
                f"Also in this issue: {'; '.join(rest)}"
                + (f"; plus {extras[0]}." if extras else ".")
            )
        elif extras:
            parts.append(f"Plus {extras[0]}.")
        sources = {a.source for s in sections for st in s.theme.stories for a in st.articles}
        stories = sum(len(s.theme.stories) for s in sections)
        parts.append(
            f"{stories} stories from {len(sources)} sources, every sentence linked to its source."
        )
        return " ".join(parts)


def theme_label(theme: Theme, capital: bool = True) -> str:
    """A theme's first two keywords as words of a sentence: 'Video and Veo', 'speech and voice'."""
    text = " ".join(a.text for s in theme.stories for a in s.articles)
    words = []
    for word in theme.name.split(" · ")[:2]:
        common = (
            word[:1].isupper()
            and word[1:].islower()
            and re.search(rf"\b{re.escape(word.lower())}\b", text)
        )
        words.append(word.lower() if common else word)
    label = " and ".join(words)
    return label[:1].upper() + label[1:] if capital else label


def _unstop(text: str) -> str:
    return text.rstrip(" .")


_FINDING = re.compile(r"^We (?:show|find|demonstrate|observe|report|argue) that (\w)(.*)$")
_WE = {"We": "The authors", "we": "the authors", "Our": "Their", "our": "their", "us": "them"}


def third_person(sentence: str) -> str:
    """An abstract's 'We show that X' told as 'X', and its other 'we' as 'the authors'."""
    if match := _FINDING.match(sentence):
        sentence = match[1].upper() + match[2]
    return re.sub(r"\b(?:We|we|Our|our|us)\b", lambda m: _WE[m[0]], sentence)
