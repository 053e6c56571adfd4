"""Writes every part of an issue with one writer, grounds it, and falls back where it fails."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from digest.models import Article, Citation, Note, Section, Sentence, Story, Theme
from digest.primary import is_primary, opening_link
from digest.write.calls import Usage
from digest.write.cues import names
from digest.write.extractive import ExtractiveWriter, renumbered, retitled
from digest.write.grounding import Grounder, GroundingCounts, said_by
from digest.write.injection import carries_instructions, unknown_terms
from digest.write.intro import intro_faults
from digest.write.sentences import normalise
from digest.write.style import (
    headline_faults,
    news_line_faults,
    sentence_faults,
    states_consequence,
)
from digest.write.vectors import remembering
from digest.write.watch import watch_notes
from digest.write.writer import EmbedTexts, Writer

# Cosine (all-MiniLM-L6-v2) above which two sentences of an issue tell the same fact.
SAME_FACT = 0.85


@dataclass
class WriteReport:
    """How the issue was written: by which backend, what grounding dropped, what it cost."""

    backend: str
    grounding: GroundingCounts = field(default_factory=GroundingCounts)
    fallbacks: list[str] = field(default_factory=list)
    repeated: int = 0
    off_style: int = 0  # sentences dropped for breaking the house style (digest.write.style)
    left_out: list[str] = field(default_factory=list)  # themes with nothing fit to print
    usage: Usage | None = None


@dataclass(frozen=True)
class Written:
    """The written parts of one issue."""

    intro: str
    sections: tuple[Section, ...]
    quick_hits: tuple[Note, ...]
    research: tuple[Note, ...]
    watch: tuple[Note, ...]
    report: WriteReport


def _sources(stories: Sequence[Story]) -> dict[str, Article]:
    return {a.id: a for s in stories for a in s.articles}


class Once:
    """Drops a sentence whose fact the issue has told already: word for word, or as close
    as SAME_FACT."""

    def __init__(self, embed: EmbedTexts, report: WriteReport | None = None) -> None:
        self._embed = remembering(embed)
        self._report = report
        self.said: set[str] = set()
        self._vectors: list[np.ndarray] = []

    def repeats(self, text: str) -> bool:
        """Whether the text tells a fact already said (without remembering it)."""
        if normalise(text) in self.said:
            return True
        if not self._vectors:
            return False
        vector = self._embed([text])[0]
        return bool((np.vstack(self._vectors) @ vector).max() >= SAME_FACT)

    def remember(self, text: str) -> None:
        self.said.add(normalise(text))
        self._vectors.append(self._embed([text])[0])

    def keep(self, sentences: Sequence[Sentence]) -> tuple[Sentence, ...]:
        kept = []
        for s in sentences:
            if self.repeats(s.text):
                if self._report is not None:
                    self._report.repeated += 1
                continue
            kept.append(s)
        for s in kept:
            self.remember(s.text)
        return tuple(kept)

    def section(self, section: Section) -> Section:
        s = section.summary
        summary = replace(
            s,
            what_happened=self.keep(s.what_happened),
            why_it_matters=self.keep(s.why_it_matters),
            technical=self.keep(s.technical),
            winners_losers=self.keep(s.winners_losers),
        )
        return replace(section, summary=summary)


def _styled(
    sentences: Sequence[Sentence], ok: Callable[[str], bool], report: WriteReport
) -> tuple[Sentence, ...]:
    kept = tuple(s for s in sentences if ok(s.text))
    report.off_style += len(sentences) - len(kept)
    return kept


def styled_section(section: Section, report: WriteReport) -> Section | None:
    """The section with every sentence that breaks the house style dropped: "what happened"
    states facts (at most three), "why it matters" states a consequence. None when the
    headline does not read as one or nothing happened."""
    s = section.summary
    if headline_faults(s.headline):
        return None

    def fact(text: str) -> bool:
        return not sentence_faults(text)

    summary = replace(
        s,
        what_happened=_styled(s.what_happened, fact, report)[:3],
        why_it_matters=_styled(s.why_it_matters, states_consequence, report),
        technical=_styled(s.technical, fact, report),
        winners_losers=_styled(s.winners_losers, fact, report),
    )
    return replace(section, summary=summary) if summary.what_happened else None


def cited_only(section: Section) -> Section:
    """The section without sources no sentence cites (but a primary source listed first),
    renumbered in order."""
    s = section.summary
    parts = (s.what_happened, s.why_it_matters, s.technical, s.winners_losers)
    used = {n for part in parts for sentence in part for n in sentence.citations}
    kept = [
        c
        for c in section.citations
        if c.number in used or (c.number == 1 and is_primary_citation(section, c))
    ]
    number = {c.number: n for n, c in enumerate(kept, 1)}
    citations = tuple(replace(c, number=number[c.number]) for c in kept)
    return replace(section, summary=renumbered(s, number), citations=citations)


def is_primary_citation(section: Section, citation: Citation) -> bool:
    articles = {a.id: a for st in section.theme.stories for a in st.articles}
    article = articles.get(citation.article_id)
    return article is not None and is_primary(article)


def write_issue(
    writer: Writer,
    fallback: ExtractiveWriter,
    grounder: Grounder,
    themes: Sequence[Theme],
    quick: Sequence[Story],
    papers: Sequence[Story],
    report: WriteReport,
    quick_hits: int = 8,
    research: int = 4,
) -> Written:
    """Every section of the issue, each checked against the sources it was given and held to
    the house style. Quick hits and papers are taken in order, up to `quick_hits` and
    `research`, from the stories that yield a line that holds up."""
    themes = [replace(t, stories=tuple(retitled(s) for s in t.stories)) for t in themes]
    quick = [retitled(s) for s in quick]
    papers = [retitled(s) for s in papers]
    counts = report.grounding
    once = Once(grounder.embed, report)
    # What to watch is chosen first, so that its sentences are kept for it and not used above it,
    # from the stories no theme tells; a story it tells is not a quick hit too.
    watch = tuple(watch_notes(quick, ()))
    watched = {c.article_id for note in watch for c in note.citations}
    quick = [s for s in quick if not watched & {a.id for a in s.articles}]
    once.keep([n.sentence for n in watch])
    fallback.used |= once.said

    def notes(stories: Sequence[Story], kind: str, limit: int) -> tuple[Note, ...]:
        kept: list[Note] = []
        for story in stories:
            if len(kept) >= limit:
                break
            sources = _sources([story])
            note = _line(writer, kind, story, report)
            note = grounder.note(note, sources, counts) if note is not None else None
            if note is None and writer is not fallback:
                counts.regenerated += 1
                report.fallbacks.append(f"{kind} {story.title[:60]!r}: written extractively")
                note = _line(fallback, kind, story, report)
                note = grounder.note(note, sources, counts) if note is not None else None
            if note is not None and once.keep([note.sentence]):
                kept.append(with_origin(note, story) if kind == "quick hit" else note)
        return tuple(kept)

    # A paper's finding goes to the research corner first; its theme tells it in other words.
    corner = notes(papers, "paper", research)
    if writer is fallback:
        fallback.prepare(themes)
    fallback.used |= once.said
    sections = []
    untold: list[Story] = []  # stories of a theme that could not be written: quick hits first
    for theme in themes:
        sources = _sources(theme.stories)
        section = grounder.section(writer.section(theme), sources, counts)
        section = styled_section(section, report) if section is not None else None
        if section is None and writer is not fallback:
            counts.regenerated += 1
            report.fallbacks.append(f"theme {theme.name!r}: written extractively after checks")
            fresh = grounder.section(fallback.section(theme), sources, counts)
            section = styled_section(fresh, report) if fresh is not None else None
        if section is not None:
            section = once.section(section)
        if section is None or not section.summary.what_happened:
            report.left_out.append(f"theme {theme.name!r}: no source sentence states its news")
            untold.extend(theme.stories)
            continue
        sections.append(cited_only(section))
    hits = notes([*untold, *quick], "quick hit", quick_hits)
    intro = writer.intro(sections, len(hits), len(corner))
    headlines = [s.summary.headline for s in sections[:3]]
    faults = intro_faults(intro, headlines)
    told = [*headlines, *(s.theme.name for s in sections)]
    told += said_by(_sources([st for s in sections for st in s.theme.stories]).values())
    if carries_instructions(intro) or unknown_terms(intro, told):
        faults.append("an order to a model, or a name or number no source gives")
    if writer is not fallback and faults:
        report.fallbacks.append(f"intro: {'; '.join(faults)}")
        intro = fallback.intro(sections, len(hits), len(corner))
    return Written(intro, tuple(sections), hits, corner, watch, report)


def with_origin(note: Note, story: Story) -> Note:
    """The quick hit with the thing itself as its origin when its line is cited to something
    else: the model's page or the lab's post of its story, else the page the cited thread
    opens on (the whistleblower's repository), so that a reader reaches the release and not
    only a thread about it."""
    cited = {c.article_id for c in note.citations}
    articles = story.articles
    if any(is_primary(a) for a in articles if a.id in cited):
        return note
    page = next((a for a in articles if is_primary(a) and names(a.title, story.title)), None)
    if page is not None:
        return replace(note, origin=Citation(0, page.id, page.href, page.title, page.source))
    for a in articles:
        if a.id in cited and (url := opening_link(a)) is not None:
            where = url.split("://", 1)[1].rstrip("/")
            return replace(note, origin=Citation(0, a.id, url, where, a.source))
    return note


def _line(writer: Writer, kind: str, story: Story, report: WriteReport) -> Note | None:
    """A quick hit (a line of news) or a paper's line (a fact) from the writer, if it holds."""
    note = writer.quick_hit(story) if kind == "quick hit" else writer.paper(story)
    if note is None:
        return None
    text = note.sentence.text
    faults = news_line_faults(text) if kind == "quick hit" else sentence_faults(text)
    if faults:
        report.off_style += 1
        return None
    return note
