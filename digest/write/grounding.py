"""Checks written text against its sources: citations, verbatim quotes, support, links."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import nh3

from digest.models import Article, Citation, Note, Section, Sentence
from digest.write.injection import carries_instructions, unknown_terms
from digest.write.sentences import normalise, source_sentences
from digest.write.vectors import remembering
from digest.write.writer import EmbedTexts

# Cosine (all-MiniLM-L6-v2) above which a written sentence counts as said by one of the
# source's own sentences. Measured by bench/grounding_threshold.py (see docs/grounding.md).
SUPPORT_THRESHOLD = 0.52

_QUOTE = re.compile(r"\"([^\"]{2,}?)\"|\u201c([^\u201d]{2,}?)\u201d")
_LINK = re.compile(
    r"(?:https?://|www\.|\]\(|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/)", re.IGNORECASE
)
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def clean_text(text: str) -> str:
    """Plain text from untrusted output: no tags, no entities, no [n] markers, one-line."""
    stripped = html.unescape(nh3.clean(text, tags=set()))
    return " ".join(_MARKER.sub("", stripped).split())


def carries_link(text: str) -> bool:
    """Whether text holds a URL, a domain path or a markdown link."""
    return _LINK.search(text) is not None


def _flat(text: str) -> str:
    quotes = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
    return " ".join(text.translate(quotes).split())


def said_by(sources: Iterable[Article]) -> list[str]:
    """What the sources themselves say (titles and sentences), without the sentences that
    give orders to a model: the only text a written sentence may rest on."""
    said = [s for a in sources for s in (a.title, *source_sentences(f"{a.summary}\n{a.full_text}"))]
    return [s for s in said if s and not carries_instructions(s)]


def quotes_in(text: str) -> list[str]:
    """The spans of a sentence written between quotation marks."""
    return [a or b for a, b in _QUOTE.findall(text)]


@dataclass
class GroundingCounts:
    """What grounding checked and dropped, for the run summary."""

    checked: int = 0
    bad_citation: int = 0
    made_up_quote: int = 0
    foreign_link: int = 0
    unsupported: int = 0
    instruction: int = 0  # spoke to a model, or retold what a source's hidden order said
    unknown_name: int = 0  # a name or number that no source gives
    regenerated: int = 0
    drops: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return (
            self.bad_citation
            + self.made_up_quote
            + self.foreign_link
            + self.unsupported
            + self.instruction
            + self.unknown_name
        )

    def add(self, other: GroundingCounts) -> None:
        self.checked += other.checked
        self.bad_citation += other.bad_citation
        self.made_up_quote += other.made_up_quote
        self.foreign_link += other.foreign_link
        self.unsupported += other.unsupported
        self.instruction += other.instruction
        self.unknown_name += other.unknown_name
        self.regenerated += other.regenerated
        self.drops.extend(other.drops)


class Grounder:
    """Keeps only sentences whose citations, quotes, links and claims their sources bear out."""

    def __init__(self, embed: EmbedTexts, threshold: float = SUPPORT_THRESHOLD) -> None:
        self._vectors = remembering(embed)  # sources are checked many times
        self.threshold = threshold

    @property
    def embed(self) -> EmbedTexts:
        """The grounder's embedding function, remembering what it embedded."""
        return self._vectors

    def support(self, sentence: str, sources: Sequence[Article]) -> float:
        """Highest cosine between the sentence and any sentence (or title) of the sources."""
        own = [s for a in sources for s in (a.title, *source_sentences(a.summary)) if s]
        own = [s for s in own if not carries_instructions(s)]
        if not own:
            return 0.0
        words = normalise(sentence)
        if words and any(normalise(s) == words for s in own):
            return 1.0  # quoted word for word: no need to embed the sources
        vectors = self._vectors([sentence, *own])
        return float((vectors[1:] @ vectors[0]).max())

    def _problem(
        self,
        sentence: Sentence,
        citations: Mapping[int, Citation],
        sources: Mapping[str, Article],
        need_support: bool,
    ) -> str | None:
        cited = [citations.get(n) for n in sentence.citations]
        if not cited or any(c is None or c.article_id not in sources for c in cited):
            return "bad_citation"
        articles = [sources[c.article_id] for c in cited if c is not None]
        said = [_flat(a.text) for a in articles]
        if any(not any(_flat(q) in s for s in said) for q in quotes_in(sentence.text)):
            return "made_up_quote"
        if _LINK.search(sentence.text):
            return "foreign_link"
        if carries_instructions(sentence.text):
            return "instruction"
        if unknown_terms(sentence.text, said_by(sources.values())):
            return "unknown_name"
        # Each citation must bear the sentence out, not only the best of them.
        if need_support and any(
            self.support(sentence.text, [a]) < self.threshold for a in articles
        ):
            return "unsupported"
        return None

    def problem(
        self, sentence: Sentence, citations: Sequence[Citation], sources: Mapping[str, Article]
    ) -> str | None:
        """What grounding finds wrong with a sentence (a GroundingCounts field), or None."""
        return self._problem(sentence, {c.number: c for c in citations}, sources, True)

    def sentences(
        self,
        written: Sequence[Sentence],
        citations: Sequence[Citation],
        sources: Mapping[str, Article],
        counts: GroundingCounts,
        need_support: bool,
    ) -> tuple[Sentence, ...]:
        by_number = {c.number: c for c in citations}
        kept = []
        for sentence in written:
            counts.checked += 1
            problem = self._problem(sentence, by_number, sources, need_support)
            if problem is None:
                kept.append(sentence)
            else:
                setattr(counts, problem, getattr(counts, problem) + 1)
                counts.drops.append(f"{problem}: {sentence.text[:100]}")
        return tuple(kept)

    def section(
        self, section: Section, sources: Mapping[str, Article], counts: GroundingCounts
    ) -> Section | None:
        """The section with failing sentences dropped; None when what is left cannot stand."""
        s, cites = section.summary, section.citations
        happened = self.sentences(s.what_happened, cites, sources, counts, need_support=True)
        why = self.sentences(s.why_it_matters, cites, sources, counts, need_support=True)
        technical = self.sentences(s.technical, cites, sources, counts, need_support=True)
        stakes = self.sentences(s.winners_losers, cites, sources, counts, need_support=True)
        if not happened or _LINK.search(s.headline) or quotes_in(s.headline):
            return None
        if carries_instructions(s.headline) or unknown_terms(s.headline, said_by(sources.values())):
            counts.instruction += 1
            counts.drops.append(f"instruction or unknown name in headline: {s.headline[:100]}")
            return None
        summary = replace(
            s,
            headline=clean_text(s.headline),
            what_happened=happened,
            why_it_matters=why,
            technical=technical,
            winners_losers=stakes,
        )
        return replace(section, summary=summary)

    def note(
        self, note: Note, sources: Mapping[str, Article], counts: GroundingCounts
    ) -> Note | None:
        """The note when its one line holds up, else None."""
        kept = self.sentences([note.sentence], note.citations, sources, counts, need_support=True)
        return note if kept else None
