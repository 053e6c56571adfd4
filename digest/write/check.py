"""The editorial check: every house rule an issue breaks, and where, beside its grounding."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from digest.models import Article, Citation, Issue, Note, Section, Sentence, readable_name
from digest.write.compose import SAME_FACT
from digest.write.extractive import MAX_HAPPENED, from_paper, own_page
from digest.write.grounding import Grounder, GroundingCounts
from digest.write.intro import intro_faults
from digest.write.sentences import normalise, source_sentences
from digest.write.style import (
    clean_title,
    headline_faults,
    news_line_faults,
    sentence_faults,
    states_consequence,
)
from digest.write.watch import looks_ahead
from digest.write.writer import EmbedTexts

# What each rule asks, as `digest check` and the README name it.
RULES = {
    "theme-name": "a theme is named in 1-4 words, never a URL, a bare version or a '·' list",
    "theme-slug": "a theme has a slug of its own (lowercase words and dashes)",
    "headline": "a headline is a clean statement: no entity, markdown, prefix or question",
    "what-happened": "'what happened' is 1-3 complete sentences, each stating a fact",
    "why-it-matters": "'why it matters' only states a consequence a source gives, never filler",
    "sentence": "every other sentence states a fact: no question, aside, URL or markdown",
    "repeated-fact": "no fact is told twice in an issue",
    "story-title": "a story's title is clean: no entity, markdown or prefix",
    "intro": "the intro is 2-3 sentences naming the week's top stories",
    "quick-hit": "a quick hit is one line of news with its link: no heading, teaser or question",
    "research": "a paper in the research corner has its title and one line stating a fact",
    "watch": "'what to watch' holds forward-looking sentences of the sources",
    "link": "a link goes to the URL its source gave and shows the title of that page",
    "headline-link": "a headline links to the post it was taken from",
    "primary-first": "an entry's first link is its story's own page, when its sources hold one",
    "grounding": "every sentence is cited, and each citation supports its sentence",
}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Violation:
    """One rule broken, where, and how."""

    rule: str
    where: str
    detail: str


@dataclass(frozen=True)
class CheckReport:
    """The editorial check of one issue: its violations and its grounding."""

    issue_id: str
    violations: tuple[Violation, ...]
    grounding: GroundingCounts = field(default_factory=GroundingCounts)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class _Told:
    """A sentence of the issue with its citations, and where it is."""

    where: str
    sentence: Sentence
    citations: tuple[Citation, ...]


class _Checker:
    def __init__(self, articles: Mapping[str, Article], grounder: Grounder) -> None:
        self.articles = articles
        self.grounder = grounder
        self.found: list[Violation] = []
        self.told: list[_Told] = []

    def flag(self, rule: str, where: str, detail: str) -> None:
        self.found.append(Violation(rule, where, detail))

    def faults(self, rule: str, where: str, text: str, faults: Sequence[str]) -> None:
        if faults:
            self.flag(rule, where, f"{', '.join(faults)}: {text[:90]!r}")

    def sentences(
        self, rule: str, where: str, items: Sequence[Sentence], citations: tuple[Citation, ...]
    ) -> None:
        for n, sentence in enumerate(items, 1):
            here = f"{where} {n}"
            if rule == "why-it-matters":
                if not states_consequence(sentence.text):
                    faults = sentence_faults(sentence.text) or ["no consequence stated"]
                    self.faults(rule, here, sentence.text, faults)
            else:
                self.faults(rule, here, sentence.text, sentence_faults(sentence.text))
            self.told.append(_Told(here, sentence, citations))

    def links(self, where: str, citations: Sequence[Citation]) -> None:
        for c in citations:
            article = self.articles.get(c.article_id)
            if article is None:
                self.flag("link", f"{where} [{c.number}]", "its article is not in the store")
                continue
            if c.url != article.href:
                self.flag(
                    "link",
                    f"{where} [{c.number}]",
                    f"goes to {c.url!r}, not to {article.href!r} as the source gave it",
                )
            if c.title != article.title:
                self.flag("link", f"{where} [{c.number}]", f"shows {c.title!r}, not its title")

    def section(self, number: int, section: Section) -> None:
        theme, s = section.theme, section.summary
        where = f"theme {number} {theme.name!r}"
        if not readable_name(theme.name):
            self.flag("theme-name", where, f"{theme.name!r} is no section head")
        if not _SLUG.fullmatch(theme.slug):
            self.flag("theme-slug", where, f"slug {theme.slug!r}")
        self.faults("headline", f"{where}: headline", s.headline, headline_faults(s.headline))
        if not 1 <= len(s.what_happened) <= MAX_HAPPENED:
            self.flag(
                "what-happened", where, f"{len(s.what_happened)} sentences, not 1-{MAX_HAPPENED}"
            )
        cites = section.citations
        self.sentences("what-happened", f"{where}: what happened", s.what_happened, cites)
        self.sentences("why-it-matters", f"{where}: why it matters", s.why_it_matters, cites)
        self.sentences("sentence", f"{where}: technical", s.technical, cites)
        self.sentences("sentence", f"{where}: who wins", s.winners_losers, cites)
        self.links(where, cites)
        stories = {a.id: a for story in theme.stories for a in story.articles}
        source = [a for a in stories.values() if a.href == s.headline_link]
        if not any(_took_headline(s.headline, a) for a in source):
            self.flag(
                "headline-link",
                f"{where}: headline",
                f"links to {s.headline_link!r}, which is not the post it was taken from",
            )
        for story in theme.stories:
            title = story.title
            if clean_title(title) != title:
                self.flag("story-title", f"{where}: story {title[:50]!r}", "not a clean title")
            linked = [a for a in story.articles if a.href == story.href]
            if not any(clean_title(a.title) == title for a in linked):
                self.flag(
                    "link",
                    f"{where}: story {title[:50]!r}",
                    f"links to {story.href!r}, a post with another title",
                )
        lead = theme.stories[0] if theme.stories else None
        if lead is not None and any(own_page(a, lead) for a in lead.articles):
            first = self.articles.get(cites[0].article_id) if cites else None
            if first is None or not own_page(first, lead):
                self.flag(
                    "primary-first",
                    where,
                    f"[1] is {cites[0].url if cites else 'missing'!r}, not the story's own page",
                )

    def notes(self, kind: str, notes: Sequence[Note]) -> None:
        for n, note in enumerate(notes, 1):
            where = f"{kind} {n}"
            text = note.sentence.text
            if kind == "quick hit":
                self.faults("quick-hit", where, text, news_line_faults(text))
                if not note.citations:
                    self.flag("quick-hit", where, "no link")
            elif kind == "paper":
                if not note.title:
                    self.flag("research", where, "no title")
                self.faults("research", where, text, sentence_faults(text))
                paper = [self.articles.get(c.article_id) for c in note.citations]
                own = [a for a in paper if a and from_paper(a) and not a.discussion_url]
                if any(a.author for a in own) and not note.authors:
                    self.flag("research", where, "the paper's authors are left out")
            else:
                self.faults("watch", where, text, sentence_faults(text))
                cited = [self.articles.get(c.article_id) for c in note.citations]
                if not any(a and looks_ahead(text, a.published_at.date()) for a in cited):
                    self.flag("watch", where, f"looks at nothing ahead: {text[:90]!r}")
            self.links(where, note.citations)
            self.told.append(_Told(where, note.sentence, note.citations))

    def grounding(self) -> GroundingCounts:
        counts = GroundingCounts()
        for told in self.told:
            counts.checked += 1
            problem = self.grounder.problem(told.sentence, told.citations, self.articles)
            if problem is not None:
                setattr(counts, problem, getattr(counts, problem) + 1)
                counts.drops.append(f"{problem}: {told.sentence.text[:100]}")
                self.flag("grounding", told.where, f"{problem}: {told.sentence.text[:90]!r}")
        return counts

    def repeats(self, embed: EmbedTexts) -> None:
        texts = [t.sentence.text for t in self.told]
        if not texts:
            return
        vectors = embed(texts)
        keys = [normalise(t) for t in texts]
        for i, told in enumerate(self.told):
            for j in range(i):
                if keys[i] == keys[j] or float(vectors[i] @ vectors[j]) >= SAME_FACT:
                    self.flag(
                        "repeated-fact",
                        told.where,
                        f"tells again what {self.told[j].where} told: {texts[i][:80]!r}",
                    )
                    break


def _took_headline(headline: str, article: Article) -> bool:
    """Whether the headline is the article's title, or one of its sentences."""
    if clean_title(article.title) == headline or article.title == headline:
        return True
    said = {normalise(s) for s in source_sentences(article.summary)}
    return normalise(headline) in said


def check_issue(issue: Issue, articles: Mapping[str, Article], grounder: Grounder) -> CheckReport:
    """Every rule of RULES the issue breaks, and where; `articles` holds each cited article."""
    known = {a.id: a for s in issue.sections for st in s.theme.stories for a in st.articles}
    checker = _Checker({**articles, **known}, grounder)
    for head, faults in _intro(issue):
        checker.flag("intro", "intro", f"{faults}: {head}")
    for n, section in enumerate(issue.sections, 1):
        checker.section(n, section)
    slugs = [s.theme.slug for s in issue.sections]
    for slug in sorted({x for x in slugs if slugs.count(x) > 1}):
        checker.flag("theme-slug", f"slug {slug!r}", "names more than one theme")
    checker.notes("quick hit", issue.quick_hits)
    checker.notes("paper", issue.research)
    checker.notes("watch", issue.watch)
    counts = checker.grounding()
    checker.repeats(grounder.embed)
    return CheckReport(issue.id, tuple(checker.found), counts)


def _intro(issue: Issue) -> Iterator[tuple[str, str]]:
    headlines = [s.summary.headline for s in issue.sections[:3]]
    faults = intro_faults(issue.intro, headlines)
    if faults:
        yield issue.intro[:90], "; ".join(faults)


def cited_ids(issue: Issue) -> list[str]:
    """The ids of every article an issue cites."""
    notes = (*issue.quick_hits, *issue.research, *issue.watch)
    ids = [c.article_id for s in issue.sections for c in s.citations]
    return list(dict.fromkeys([*ids, *(c.article_id for n in notes for c in n.citations)]))
