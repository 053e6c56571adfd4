"""The offline writer: sentences chosen from the sources themselves, each cited to who said it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import numpy as np

from digest.families import PRESS, link_outlet
from digest.models import Article, Citation, Note, Section, Sentence, Story, Summary, Theme
from digest.primary import is_primary, names_page, opening_link, own_post
from digest.write.cues import names, relative_time, stakes, takeaway, technical
from digest.write.sentences import normalise, source_sentences, standalone
from digest.write.style import (
    clean_title,
    has_verb,
    headline_faults,
    news_line_faults,
    states_consequence,
    states_fact,
)
from digest.write.vectors import remembering
from digest.write.writer import EmbedTexts

SUPPORT = 0.6  # a sentence is supported by another article when one of its sentences is this close
LEDE_BONUS = 0.05
CUE_WEIGHT = 0.2
NAME_WEIGHT = 0.15
PRIMARY_BONUS = 0.1
RELATIVE_TIME_PENALTY = 0.3
QUICK_HIT_CHARS = 220
STATED_HEADLINE_CHARS = 100  # a first sentence this short may head an entry its title labels
MAX_HAPPENED = 3  # sentences under "what happened"
CANDIDATE_SOURCES = 12  # of a story's articles whose sentences a section or a line may use
MAX_WHY = 2


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
    """The sentences of the story's sources that state a fact and stand on their own: of its
    first-hand pages and then its first reports, at most CANDIDATE_SOURCES (a story of 30
    posts would otherwise have every sentence of each embedded to write three)."""
    found: list[_Candidate] = []
    first = sorted(story.articles, key=lambda a: not is_primary(a))[:CANDIDATE_SOURCES]
    read = {a.id for a in first}
    for article in (a for a in story.articles if a.id in read):
        paper = from_paper(article)
        for position, said in enumerate(source_sentences(article.summary)):
            text = third_person(said) if paper else said
            if standalone(text) and states_fact(text):
                found.append(_Candidate(text, article, position, story))
    return found


def _tells(candidate: _Candidate) -> bool:
    """Whether a sentence is about its story: it names it, or it is the lede of the story's
    own page (a benchmark's repository that ranks ERNIE 4.5 is not ERNIE's page)."""
    c = candidate
    if names(c.text, c.story.title) > 0:
        return True
    return c.position == 0 and own_page(c.article, c.story)


def own_page(article: Article, story: Story) -> bool:
    """Whether the article is the story's own first-hand page (its address names it)."""
    return is_primary(article) and names_page(article.url, story.title)


def _labels(title: str, sentence: str) -> bool:
    """Whether the title only labels what the sentence, short enough to head the entry, tells
    as news ("Grok 4 on Fiction.liveBench Long Context Comprehension" against "xAI has just
    announced its smartest AI models to date: Grok 4 and Grok 4 Heavy")."""
    said = sentence.rstrip(".")
    return (
        not has_verb(title)
        and len(said) <= STATED_HEADLINE_CHARS
        and not headline_faults(said)
        and names(said, title) > 0
    )


def _fit(candidate: _Candidate) -> float:
    """How well a sentence tells its story on its own: names it, speaks of it, states results."""
    text, story = candidate.text, candidate.story
    score = NAME_WEIGHT * names(text, story.title)
    score -= RELATIVE_TIME_PENALTY if relative_time(text) else 0.0
    score += PRIMARY_BONUS if is_primary(candidate.article) else 0.0
    if from_paper(candidate.article):
        score += CUE_WEIGHT * min(takeaway(text), 2)
    return score + (LEDE_BONUS if candidate.position == 0 else 0.0)


def headline(story: Story) -> tuple[str, Article] | None:
    """The story's headline and the post it was taken from: the first-party title when there
    is one, else the story's own title (selection titles a story by the post that best tells
    it), else the clearest news title (a statement, cleaned); None when no title reads as a
    headline."""
    best: tuple[tuple[int, int, int, int], str, Article] | None = None
    for position, article in enumerate(story.articles):
        title = clean_title(article.title)
        if headline_faults(title):
            continue
        primary = is_primary(article)
        if primary and own_post(article):
            rank = 0  # the lab's, the paper's own title
        elif has_verb(title):
            rank = 1 if primary else 2
        else:
            rank = 3
        own = title == clean_title(story.title)
        key = (min(rank, 1), 0 if own else 1, rank, position)
        if best is None or key < best[0]:
            best = (key, title, article)
    return (best[1], best[2]) if best else None


def retitled(story: Story) -> Story:
    """The story titled by its headline and linked to the post that headline came from."""
    told = headline(story)
    if told is not None:
        return replace(story, title=told[0], link=told[1].href)
    source = next((a for a in story.articles if a.title == story.title), story.articles[0])
    return replace(story, title=clean_title(story.title), link=source.href)


class _Numbering:
    """Citation numbers in order of first use within one section."""

    def __init__(self) -> None:
        self.by_article: dict[str, Citation] = {}

    def cite(self, articles: Sequence[Article]) -> tuple[int, ...]:
        numbers: list[int] = []
        for a in articles:
            if a.id not in self.by_article:
                n = len(self.by_article) + 1
                self.by_article[a.id] = Citation(n, a.id, a.href, a.title, a.source)
            numbers.append(self.by_article[a.id].number)
        return tuple(dict.fromkeys(numbers))

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(self.by_article.values())


def primary_first(
    summary: Summary, citations: Sequence[Citation], primary: Article
) -> tuple[Summary, tuple[Citation, ...]]:
    """The section renumbered so that its primary source is [1] (listed even when no
    sentence cites it, so the entry's first link is the thing itself)."""
    rest = [c for c in citations if c.article_id != primary.id]
    first = next(
        (c for c in citations if c.article_id == primary.id),
        Citation(0, primary.id, primary.href, primary.title, primary.source),
    )
    order = [first, *rest]
    summary = renumbered(summary, {c.number: n for n, c in enumerate(order, 1) if c.number})
    return summary, tuple(replace(c, number=n) for n, c in enumerate(order, 1))


def renumbered(summary: Summary, number: dict[int, int]) -> Summary:
    """The summary with its [n] citation marks renumbered by `number`."""

    def again(sentences: tuple[Sentence, ...]) -> tuple[Sentence, ...]:
        return tuple(
            Sentence(s.text, tuple(number.get(n, n) for n in s.citations)) for s in sentences
        )

    return replace(
        summary,
        what_happened=again(summary.what_happened),
        why_it_matters=again(summary.why_it_matters),
        technical=again(summary.technical),
        winners_losers=again(summary.winners_losers),
    )


class ExtractiveWriter:
    """Central sentences for "what happened", cue-bearing ones for the sections after it.

    One writer writes one issue: it remembers every sentence it used, so none is repeated.
    """

    def __init__(self, embed: EmbedTexts, stories_per_theme: int = MAX_HAPPENED) -> None:
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

    def _happened(
        self,
        story: Story,
        numbering: _Numbering,
        pool: list[tuple[_Candidate, np.ndarray]],
    ) -> list[Sentence]:
        """The story's most central sentence that tells it, else its headline as a sentence;
        both, the headline first, when that sentence comes from a post that only speaks of the
        story (a benchmark thread's "ERNIE 4.5 scores 15.2" follows "Baidu releases ERNIE
        4.5")."""
        told = headline(story)
        candidates = self._fresh(_candidates(story))
        if candidates:
            vectors = self._embed([c.text for c in candidates])
            centroid = vectors.mean(axis=0)
            fit = np.array([_fit(c) if _tells(c) else -9.0 for c in candidates])
            best = int(np.argmax(vectors @ centroid + fit))
            pool.extend(
                (c, v)
                for i, (c, v) in enumerate(zip(candidates, vectors, strict=True))
                if i != best
            )
            if fit[best] > -9.0:
                self._take(candidates[best].text)
                said = candidates[best].article
                aside = told is not None and said.id != told[1].id and not own_page(said, story)
                # Cited in reading order: the headline's post is [1] when it leads.
                lead = self._stated(told, numbering) if aside else None
                backing = self._supporters(best, candidates, vectors)
                found = Sentence(candidates[best].text, numbering.cite(backing))
                return [lead, found] if lead else [found]
        lead = self._stated(told, numbering)
        if lead is None or told is None:
            return []
        more = self._reported(story, told[1], numbering)
        return [lead, more] if more else [lead]

    def _reported(self, story: Story, told: Article, numbering: _Numbering) -> Sentence | None:
        """Another press report of a story told by titles alone, its title a statement
        (Wired's list of Meta's hires, then "Sam Altman slams Meta's AI talent poaching")."""
        for article in story.articles:
            outlet = link_outlet(article.url)
            if article.id == told.id or outlet is None or outlet.type != PRESS:
                continue
            title = clean_title(article.title)
            if not headline_faults(title) and (said := self._stated((title, article), numbering)):
                return said
        return None

    def _stated(self, told: tuple[str, Article] | None, numbering: _Numbering) -> Sentence | None:
        """The headline as a sentence, cited to its post, if it states a fact not yet used."""
        if told is None or not has_verb(told[0]):
            return None
        text = told[0] if told[0].endswith((".", "!")) else f"{told[0]}."
        if normalise(text) in self.used or not states_fact(text):
            return None
        self._take(text)
        return Sentence(text, numbering.cite([told[1]]))

    def section(self, theme: Theme) -> Section:
        numbering = _Numbering()
        stories = list(theme.stories[: self._stories_per_theme])
        # The entry leads with the first story (by rank) whose title reads as a headline and
        # whose sources tell it in a sentence; else whose headline is a statement (it is then
        # its own first sentence); else the first with a headline.
        told_by_text = [
            i
            for i, s in enumerate(stories)
            if headline(s) and any(_tells(c) for c in self._fresh(_candidates(s)))
        ]
        stated = [i for i, s in enumerate(stories) if (h := headline(s)) and has_verb(h[0])]
        headed = [i for i, s in enumerate(stories) if headline(s)]
        lead = next(iter(told_by_text or stated or headed), 0)
        stories.insert(0, stories.pop(lead))
        told = headline(stories[0])
        happened: list[Sentence] = []
        pool: list[tuple[_Candidate, np.ndarray]] = []
        for story in stories:
            if len(happened) == MAX_HAPPENED:
                break
            happened.extend(self._happened(story, numbering, pool)[: MAX_HAPPENED - len(happened)])
        if happened and (told is None or _labels(told[0], happened[0].text)):
            # No title reads as a headline, or the best is a label its first sentence states
            # as news: that sentence becomes the headline, and is not repeated.
            first = numbering.citations[happened[0].citations[0] - 1]
            told = (happened[0].text.rstrip("."), _article(stories, first.article_id))
            happened = happened[1:] or happened
        why = self._pick(pool, lambda t: int(states_consequence(t)), numbering, MAX_WHY)
        detail = self._pick(pool, technical, numbering, 2)
        who = self._pick(pool, stakes, numbering, 2)
        summary = Summary(
            told[0] if told else stories[0].title,
            tuple(happened),
            tuple(why),
            tuple(detail),
            tuple(who),
            headline_link=told[1].href if told else stories[0].href,
        )
        citations = numbering.citations
        # The story's own page is [1]; a benchmark's repository that ranks it is not.
        primary = next((a for a in stories[0].articles if own_page(a, stories[0])), None)
        if primary is not None:
            summary, citations = primary_first(summary, citations, primary)
        ordered = replace(theme, stories=(*stories, *theme.stories[len(stories) :]))
        return Section(ordered, summary, citations)

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
            if relative_time(candidate.text):
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

    def quick_hit(self, story: Story) -> Note | None:
        """One line of news: the best short sentence that names the story from the post its
        headline comes from (the lab's own when it has one), else that headline when it is a
        statement, else the best such sentence of any of its posts, else the headline's post's first
        fact led by that headline ("ChatGPT agent: bridging research and action": "ChatGPT
        can now ..."), else, for a link that carries its title alone, the site it is new on; None
        when it has none of these. (A sentence of another post, say a benchmark thread, may
        name the story in passing.)"""
        numbering = _Numbering()
        short = [c for c in self._fresh(_candidates(story)) if len(c.text) <= QUICK_HIT_CHARS]
        ranked = sorted(short, key=lambda c: (-_fit(c), c.position, len(c.text)))
        ranked = [c for c in ranked if names(c.text, story.title) > 0]
        told = headline(story)
        own = [c for c in ranked if told and c.article.id == told[1].id]
        if own:
            return self._quick(own[0], numbering)
        if (
            told is not None
            and not news_line_faults(told[0])
            and normalise(told[0]) not in self.used
        ):
            self._take(told[0])
            return Note(Sentence(told[0], numbering.cite([told[1]])), numbering.citations)
        if ranked:
            return self._quick(ranked[0], numbering)
        if told is None:
            return None
        lede = [c for c in short if c.article.id == told[1].id]
        if not lede:
            return self._new_on(told[0], told[1], numbering)
        return replace(self._quick(min(lede, key=lambda c: c.position), numbering), title=told[0])

    def _new_on(self, title: str, article: Article, numbering: _Numbering) -> Note | None:
        """For a forum's link to someone's page that carries its title alone ("Kiro: A new
        agentic IDE" on HN), or a forum's post that opens on the thing's own page and says
        nothing a line can hold ("DiffuCoder 7B - New coding diffusion LLM by Apple", then
        the poster's own trials): where it is new, the title quoted, not read as a
        statement."""
        linked = article.discussion_url and article.url != article.discussion_url
        page = article.url if linked and not article.summary.strip() else opening_link(article)
        if page is None:
            return None
        # The site as its link writes it: a publisher's name the sources do not say would not
        # pass grounding.
        site = (urlsplit(page).hostname or "").removeprefix("www.")
        line = f"New on {site}: \u201c{title.rstrip('.')}\u201d."
        if normalise(line) in self.used:
            return None
        self._take(line)
        return Note(Sentence(line, numbering.cite([article])), numbering.citations)

    def _quick(self, best: _Candidate, numbering: _Numbering) -> Note:
        self._take(best.text)
        return Note(Sentence(best.text, numbering.cite([best.article])), numbering.citations)

    def paper(self, story: Story) -> Note | None:
        """The paper's title, authors and finding in one line (its abstract's sentence with the
        strongest result); None when no source states one."""
        numbering = _Numbering()
        article = next((a for a in story.articles if from_paper(a)), story.articles[0])
        lines = [third_person(s) for s in source_sentences(article.summary)]
        fresh = [s for s in lines if states_fact(s) and normalise(s) not in self.used]
        if not fresh:
            return None
        best = max(fresh, key=lambda s: (takeaway(s), -len(s)))
        self._take(best)
        # A forum post's author posted the link; only a paper feed names the paper's authors.
        authors = article.author if not article.discussion_url else ""
        return Note(
            Sentence(best, numbering.cite([article])),
            numbering.citations,
            title=clean_title(article.title),
            authors=authors,
        )

    def intro(self, sections: Sequence[Section], quick_hits: int, papers: int = 0) -> str:
        """Two sentences: the week's top stories by their headlines, then what else is inside."""
        extras = [
            f"{n} {word}{'s' if n != 1 else ''}"
            for n, word in ((quick_hits, "quick hit"), (papers, "paper"))
            if n
        ]
        if not sections:
            inside = _listed(extras) if extras else "no story that drew wide coverage"
            return f"A quiet week in AI news. This issue holds {inside}."
        heads = [_unstop(s.summary.headline) for s in sections[:3]]
        # Inside the sentence a headline's opening article is a word like any other ("and a
        # project to bring CUDA ..."); a name keeps its capital.
        heads[1:] = [
            re.sub(r"^(A|An|The) (?=[a-z])", lambda m: f"{m[1].lower()} ", h) for h in heads[1:]
        ]
        top = heads[0] if len(heads) == 1 else "; ".join(heads[:-1]) + "; and " + heads[-1]
        label = "The week's top story" if len(heads) == 1 else "The week's top stories"
        rest = [s.theme.name for s in sections[3:]]
        also = _listed([*rest, *extras]) if rest or extras else ""
        return f"{label}: {top}." + (f" Also in this issue: {also}." if also else "")


def _article(stories: Sequence[Story], article_id: str) -> Article:
    return next(a for s in stories for a in s.articles if a.id == article_id)


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unstop(text: str) -> str:
    return text.rstrip(" .!")


_FINDING = re.compile(r"^We (?:show|find|demonstrate|observe|report|argue) that (\w)(.*)$")
_WE = {"We": "The authors", "we": "the authors", "Our": "Their", "our": "their", "us": "them"}


def third_person(sentence: str) -> str:
    """An abstract's 'We show that X' told as 'X', and its other 'we' as 'the authors'."""
    if match := _FINDING.match(sentence):
        sentence = match[1].upper() + match[2]
    return re.sub(r"\b(?:We|we|Our|our|us)\b", lambda m: _WE[m[0]], sentence)
