"""Cues by which a source sentence says why something matters, how it works, or who gains."""

from __future__ import annotations

import re

_SIGNIFICANCE = re.compile(
    r"\b(?:means?|matters?|could|would|will|allows?|lets|enables?|first|cheaper|faster|"
    r"risks?|pressure|signals?|implications?|impact|for (?:developers|users|companies|teams|"
    r"enterprises|researchers|startups|businesses|customers|creators|regulators)|shift|"
    r"threat|costs?|competition|open[- ]weight|anyone can|no longer|for the first time|"
    r"available to|free|affordable|privacy|jobs|workers|legal|liability|fines?)\b",
    re.IGNORECASE,
)
_TECHNICAL = re.compile(
    r"\b(?:\d[\d.,]*\s?(?:[BMKT]\b|billion|million|trillion|parameters|tokens|GB|TB|ms|"
    r"seconds|languages|GW|MW|x\b|%|percent)|parameters|context (?:window|length)|"
    r"mixture[- ]of[- ]experts|MoE|quantis|quantiz|GGUF|AWQ|int4|int8|FP8|benchmark|"
    r"SWE-bench|MMLU|GPQA|AIME|latency|throughput|architecture|fine-tun|distill|"
    r"training run|GPUs?|H100|B200|TPU|Trainium|inference|weights|license|Apache|MIT)",
    re.IGNORECASE,
)
_STAKES = re.compile(
    r"\b(?:rivals?|undercut\w*|beats?|outperform\w*|ahead of|trails?|catch(?:es)? up|"
    r"compet(?:ition|itors?|ing|es?)|market share|at the expense|loses?|losing|winners?|"
    r"losers?|pressure on|threat to|takes? aim|answer to|(?:cheaper|faster|better|stronger|"
    r"smaller|larger) than)\b",
    re.IGNORECASE,
)
_RELATIVE_TIME = re.compile(
    r"\b(?:yesterday|today|tonight|this morning|last night|just now)\b", re.I
)
_FIRST_PERSON = re.compile(r"\b(?:we|we're|we've|our|us|I|I'm|I've|my|me|you|your)\b", re.I)
_RESULT = re.compile(
    r"\b(?:show|find|found|outperform\w*|beats?|improv\w+|reduc\w+|achiev\w+|drops?|"
    r"only when|cheaper|faster|than|\d+(?:\.\d+)?%|state[- ]of[- ]the[- ]art)\b",
    re.IGNORECASE,
)


def significance(sentence: str) -> int:
    """How many cues of consequence a sentence holds (who is affected, what changes)."""
    return len(_SIGNIFICANCE.findall(sentence))


def technical(sentence: str) -> int:
    """Technical detail: sizes, benchmarks, architecture. Needs two cues to count."""
    found = len(_TECHNICAL.findall(sentence))
    return found if found >= 2 else 0


def stakes(sentence: str) -> int:
    """Who gains and who loses: rivals, comparisons, pressure."""
    return len(_STAKES.findall(sentence))


def takeaway(sentence: str) -> int:
    """How strongly an abstract's sentence states a result."""
    return len(_RESULT.findall(sentence))


def first_person(sentence: str) -> bool:
    """Whether the sentence speaks as its author ("we", "my", "you"): it reads oddly quoted."""
    return _FIRST_PERSON.search(sentence) is not None


def names(sentence: str, title: str) -> float:
    """The share of the title's names (words with digits or inner capitals) the sentence says."""
    words = re.findall(r"\w[\w.-]*\w|\w", title)
    wanted = {w for w in words if any(c.isdigit() for c in w) or any(c.isupper() for c in w[1:])}
    wanted = wanted or {w for w in words[1:] if w[:1].isupper()}
    if not wanted:
        return 0.0
    return sum(w in sentence for w in wanted) / len(wanted)


def relative_time(sentence: str) -> bool:
    """Whether the sentence dates itself from its own day ("yesterday"): wrong in a weekly."""
    return _RELATIVE_TIME.search(sentence) is not None
