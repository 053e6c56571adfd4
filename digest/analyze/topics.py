"""Theme names a reader recognises: a topic from an editable list, else a telling noun phrase."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from digest.errors import ConfigError
from digest.models import MAX_NAME_WORDS, readable_name

# Cosine (all-MiniLM-L6-v2) between a theme's centroid and a topic's description above which
# the topic names the theme. Measured on the sample week and the real dev weeks (see
# tests/test_topics.py): true topics score 0.38-0.62, the nearest wrong one 0.20-0.36.
TOPIC_MATCH = 0.36
FALLBACK_NAME = "More AI news"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Words c-TF-IDF ranks high that are no thing a section could be about.
_NOT_NOUNS = re.compile(
    r"(?:added|adds|amid|able|actually|add|again|already|always|amazing|anyone|around|asked|"
    r"available|based|best|better|big|bit|called|came|can't|come|coming|could|did|does|"
    r"doing|done|don't|even|ever|every|feel|find|first|free|getting|give|go|going|good|got|"
    r"great|guys|had|has|have|help|here|how|i'm|it's|know|last|let|let's|look|looking|lot|"
    r"many|may|maybe|might|more|most|much|need|needs|never|next|now|old|one|only|open|other|"
    r"out|over|own|pretty|real|really|right|run|running|same|see|seems|should|since|small|"
    r"so|some|someone|something|still|such|sure|take|than|thanks|that's|then|there|these|"
    r"they|thing|things|think|this|those|though|top|try|trying|two|very|want|was|way|well|"
    r"were|what|when|where|which|while|who|why|will|with|without|work|working|would|yes|yet|"
    r"you|your)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Topic:
    """A section head of an AI newsletter, the slug its pages live under, and what it covers."""

    name: str
    slug: str
    description: str


def _topics_from(text: str, where: str) -> list[Topic]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: cannot be read as TOML ({exc}); fix the syntax") from exc
    entries = data.get("topic", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: write each topic as a [[topic]] table")
    topics = []
    for n, entry in enumerate(entries, 1):
        name, slug, about = (str(entry.get(k, "")).strip() for k in ("name", "slug", "description"))
        label = f"{where}: topic {n} ({name or 'unnamed'})"
        if not name or len(name.split()) > MAX_NAME_WORDS or not readable_name(name):
            raise ConfigError(f"{label}: give a name of 1 to {MAX_NAME_WORDS} plain words")
        if not _SLUG.fullmatch(slug):
            raise ConfigError(
                f"{label}: slug {slug!r} must be lowercase letters, digits and dashes, "
                "e.g. 'speech-and-audio'"
            )
        if len(about.split()) < 4:
            raise ConfigError(f"{label}: give a description of a sentence: what it covers")
        topics.append(Topic(name, slug, about))
    return topics


def load_topics(path: Path | None = None) -> list[Topic]:
    """The built-in topics, with the editor's (a topic file) added; the editor's win by slug."""
    builtin = resources.files("digest.analyze").joinpath("topics.toml")
    topics = {t.slug: t for t in _topics_from(builtin.read_text("utf-8"), "built-in topics")}
    if path is not None and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from exc
        topics.update((t.slug, t) for t in _topics_from(text, str(path)))
    return list(topics.values())


def slugify(name: str) -> str:
    """A slug from a name: 'Kimi K2' -> 'kimi-k2'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].strip("-") or "theme"


def telling_phrase(keywords: Sequence[str], surface: Callable[[str], str]) -> str:
    """The most telling noun phrase among a theme's keywords, as the sources write it.

    A name ("Kimi K2", "Hugging Face") or a phrase of several words wins over a common word;
    URLs, bare version numbers and words that are no thing ("added", "run") never name it.
    """
    best: tuple[int, int, str] | None = None
    for rank, keyword in enumerate(keywords):
        form = surface(keyword)
        words = form.split()
        if not readable_name(form) or any(_NOT_NOUNS.fullmatch(w) for w in words):
            continue
        # Written with a capital inside a sentence: a name. (Sentence-initial capitals are
        # outvoted by the other mentions in `surface`.)
        proper = any(w[:1].isupper() or any(c.isdigit() for c in w) for w in words)
        # Lower is better: several words or a name first, then the keyword's own rank.
        kind = 0 if len(words) > 1 and proper else 1 if proper else 2 if len(words) > 1 else 3
        if best is None or (kind, rank) < best[:2]:
            best = (kind, rank, form)
    if best is None:
        return FALLBACK_NAME
    name = best[2]
    return name[:1].upper() + name[1:]


class TopicNamer:
    """Names a week's themes: each topic at most once, the closest pairs first."""

    def __init__(self, topics: Sequence[Topic], embed: Callable[[Sequence[str]], np.ndarray]):
        self.topics = list(topics)
        self._vectors = embed([t.description for t in self.topics]) if self.topics else None

    def names(
        self, centroids: Sequence[np.ndarray], fallbacks: Sequence[str]
    ) -> list[tuple[str, str]]:
        """(name, slug) per theme: its topic, or its fallback name when no topic fits."""
        chosen: dict[int, Topic] = {}
        if self._vectors is not None and len(centroids):
            sims = np.vstack(centroids) @ self._vectors.T
            taken: set[int] = set()
            for flat in np.argsort(-sims, axis=None, kind="stable"):
                row, column = divmod(int(flat), len(self.topics))
                if sims[row, column] < TOPIC_MATCH:
                    break
                if row not in chosen and column not in taken:
                    chosen[row] = self.topics[column]
                    taken.add(column)
        result: list[tuple[str, str]] = []
        used = {t.slug for t in chosen.values()}
        for row, fallback in enumerate(fallbacks):
            if row in chosen:
                result.append((chosen[row].name, chosen[row].slug))
                continue
            slug = base = slugify(fallback)
            n = 2
            while slug in used:
                slug, n = f"{base}-{n}", n + 1
            used.add(slug)
            result.append((fallback, slug))
        return result
