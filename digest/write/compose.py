"""Writes every part of an issue with one writer, grounds it, and falls back where it fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from digest.models import Article, Note, Section, Sentence, Story, Summary, Theme
from digest.write import Writer
from digest.write.calls import Usage
from digest.write.extractive import ExtractiveWriter
from digest.write.grounding import Grounder, GroundingCounts
from digest.write.sentences import normalise
from digest.write.watch import watch_notes


@dataclass
class WriteReport:
    """How the issue was written: by which backend, what grounding dropped, what it cost."""

    backend: str
    grounding: GroundingCounts = field(default_factory=GroundingCounts)
    fallbacks: list[str] = field(default_factory=list)
    repeated: int = 0
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


class _Once:
    """Drops a sentence already said elsewhere in the issue."""

    def __init__(self, report: WriteReport) -> None:
        self.said: set[str] = set()
        self._report = report

    def keep(self, sentences: Sequence[Sentence]) -> tuple[Sentence, ...]:
        kept = []
        for s in sentences:
            key = normalise(s.text)
            if key in self.said:
                self._report.repeated += 1
                continue
            self.said.add(key)
            kept.append(s)
        return tuple(kept)

    def section(self, section: Section) -> Section:
        s = section.summary
        summary = Summary(
            s.headline,
            self.keep(s.what_happened),
            self.keep(s.why_it_matters),
            self.keep(s.technical),
            self.keep(s.winners_losers),
        )
        return replace(section, summary=summary)


def write_issue(
    writer: Writer,
    fallback: ExtractiveWriter,
    grounder: Grounder,
    themes: Sequence[Theme],
    quick: Sequence[Story],
    papers: Sequence[Story],
    report: WriteReport,
) -> Written:
    """Every section of the issue, each checked against the sources it was given."""
    counts = report.grounding
    once = _Once(report)
    # What to watch is chosen first, so that its sentences are kept for it and not used above it.
    everything = [s for t in themes for s in t.stories] + list(quick)
    watch = tuple(watch_notes(everything, ()))
    once.keep([n.sentence for n in watch])
    fallback.used |= once.said

    def notes(stories: Sequence[Story], kind: str) -> tuple[Note, ...]:
        kept = []
        for story in stories:
            sources = _sources([story])
            write = writer.quick_hit if kind == "quick hit" else writer.paper
            note = grounder.note(write(story), sources, counts)
            if note is None:
                counts.regenerated += 1
                report.fallbacks.append(f"{kind} {story.title[:60]!r}: written extractively")
                make = fallback.quick_hit if kind == "quick hit" else fallback.paper
                note = make(story)
            if once.keep([note.sentence]):
                kept.append(note)
        return tuple(kept)

    # A paper's finding goes to the research corner first; its theme tells it in other words.
    research = notes(papers, "paper")
    if writer is fallback:
        fallback.prepare(themes)
    fallback.used |= once.said
    sections = []
    for theme in themes:
        sources = _sources(theme.stories)
        section = grounder.section(writer.section(theme), sources, counts)
        if section is None or not section.summary.what_happened:
            counts.regenerated += 1
            report.fallbacks.append(f"theme {theme.name!r}: written extractively after grounding")
            fresh = fallback.section(theme)
            section = grounder.section(fresh, sources, counts) or fresh
        sections.append(once.section(section))
    hits = notes(quick, "quick hit")
    intro = writer.intro(sections, len(hits))
    return Written(intro, tuple(sections), hits, research, watch, report)
