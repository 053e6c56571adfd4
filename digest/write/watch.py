"""What to watch: sentences in which the sources announce a date, a deadline or an event ahead."""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Sequence
from datetime import date

from digest.models import Article, Citation, Note, Sentence, Story
from digest.write.sentences import normalise, source_sentences, standalone
from digest.write.style import states_fact

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_EVENTS = (
    r"NeurIPS|ICML|ICLR|ACL|EMNLP|CVPR|CES|GTC|WWDC|DevDay|re:Invent|Google I/O|Build|"
    r"Dev Day|keynote|summit|conference|hearing|vote|deadline|comment period|general availability"
)
# When: a date or a period ahead, or a named event.
_WHEN = re.compile(
    rf"\b(?:{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+20\d\d)?|next {_DAY}|"
    r"next (?:week|month|year|quarter)|(?:coming|next few) (?:days|weeks|months)|"
    r"later this (?:week|month|year|quarter)|early next year|Q[1-4] 20\d\d|(?<!fiscal )20\d\d|"
    rf"{_EVENTS})\b"
)
# Ahead: the sentence speaks of something still to come.
_AHEAD = re.compile(
    r"\b(?:will|would|coming (?:in|to|soon|next|later)|upcoming|next|expect(?:s|ed)?|plans?|"
    r"planned|scheduled|due|pushed back|delayed|goes to|heads to|later|starting|until|opens?|"
    r"waitlist)\b",
    re.IGNORECASE,
)
# Dates that tell what already happened this week, not what is ahead.
_PAST_DAY = re.compile(rf"\b(?:on|last) {_DAY}\b")
_MONTHS = tuple(calendar.month_name[1:])
_DATE = re.compile(
    rf"\b({'|'.join(_MONTHS)})(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(20\d\d))?\b"
)
MAX_NOTES = 5


def _all_past(text: str, published: date) -> bool:
    """Whether every calendar date in the sentence lies before the day it was published."""
    found = []
    for month_name, day, year in _DATE.findall(text):
        month = _MONTHS.index(month_name) + 1
        y = int(year) if year else published.year + (month < published.month)
        last = calendar.monthrange(y, month)[1]
        found.append(date(y, month, min(int(day), last) if day else last))
    return bool(found) and all(d < published for d in found)


def looks_ahead(text: str, published: date) -> bool:
    """Whether a sentence speaks of something still to come: a date, period or event ahead."""
    return _score(text, published) > 0


def _score(text: str, published: date) -> int:
    whens = _WHEN.findall(text)
    if not whens or not _AHEAD.search(text) or _all_past(text, published):
        return 0
    specific = sum(1 for w in whens if re.search(r"\d", w) or w.startswith("next"))
    return 2 + specific - (2 if _PAST_DAY.search(text) and specific == 0 else 0)


def _lines(article: Article) -> list[tuple[int, str]]:
    sentences = source_sentences(article.summary)
    return [(i, s) for i, s in enumerate(sentences) if states_fact(s) and standalone(s)]


def watch_notes(stories: Sequence[Story], used: Collection[str]) -> list[Note]:
    """Up to five forward-looking sentences, one per story, in the stories' order of importance.

    `used` holds the normalised text of sentences already in the issue, so none is repeated.
    """
    found: list[tuple[int, int, Note]] = []
    for rank, story in enumerate(stories):
        best: tuple[int, Article, str] | None = None
        for article in story.articles:
            for _, text in _lines(article):
                score = _score(text, article.published_at.date())
                if score > 0 and normalise(text) not in used and (best is None or score > best[0]):
                    best = (score, article, text)
        if best is not None:
            score, article, text = best
            citation = Citation(1, article.id, article.href, article.title, article.source)
            found.append((-score, rank, Note(Sentence(text, (1,)), (citation,))))
    found.sort(key=lambda item: item[:2])
    return [note for _, _, note in found[:MAX_NOTES]]
