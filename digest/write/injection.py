"""Instructions hidden in source text, and written text that carries them or names what no
source says: how a prompt injection is kept out of an issue."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Sentences that speak to a model rather than to a reader. Matched on one sentence at a time.
_ADDRESSEE = (
    r"(?:AIs?|LLMs?|(?:large\s+)?language\s+models?|models?|assistants?|chatbots?|bots?|"
    r"summari[sz]ers?|agents?|GPTs?|ChatGPT|Claude|Gemini)"
)
_VERB = (
    r"(?:write|say|state|output|print|include|add|insert|respond|reply|answer|report|mention|"
    r"call|describe|use|put|start|begin|end|claim|repeat|translate|summari[sz]e)"
)
_INSTRUCTION = re.compile(
    rf"""
      \b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{{0,40}}
        \b(?:previous|prior|above|earlier|all|any|your|these|those|other)\b[^.!?\n]{{0,20}}
        \b(?:instructions?|prompts?|directions?|rules|guidelines|directives?)\b
    | \byou\s+(?:must|should|shall|need\s+to|have\s+to|are\s+(?:to|instructed\s+to|required\s+to))
        \s+(?:now\s+|always\s+|instead\s+|only\s+)?{_VERB}\b
    | \b{_ADDRESSEE}\s+(?:must|shall|are\s+(?:instructed|required)\s+to)\s+(?:now\s+)?{_VERB}\b
    | \byou\s+are\s+(?:now\s+)?an?\s+(?:AI|LLM|language\s+model|assistant|chatbot)\b
    | \b(?:note|message|instructions?|attention|notice)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?
        {_ADDRESSEE}\b
    | ^\W*(?:dear\s+)?{_ADDRESSEE}\s*[:,]\s*(?:please\s+)?{_VERB}\b
    | \b{_VERB}\b[^.!?\n]{{0,80}}\b(?:in|into|to|as|for)\s+(?:your)\s+
        (?:summary|summaries|headline|response|answer|output|newsletter|digest|reply|write-?up)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[^\W_]+")


def carries_instructions(text: str) -> bool:
    """Whether the text gives orders to a model ("ignore previous instructions", "you must
    write ...", "Note to AI assistants: ...") instead of telling news."""
    return _INSTRUCTION.search(text) is not None


def _number(token: str) -> str:
    return token.replace(",", "")


def unknown_terms(text: str, sources: Iterable[str]) -> list[str]:
    """Names and numbers of the text that appear in none of the source texts.

    Words are runs of letters and digits ("Qwen3", "72B", "OpenAI"); a name is one with a
    capital letter (the text's first word counts only with a capital inside it, since every
    sentence starts with one), matched ignoring case. A number must appear in a source as
    written (thousands separators aside).
    """
    words: set[str] = set()
    numbers: set[str] = set()
    for source in sources:
        words.update(_TOKEN.findall(source.lower()))
        numbers.update(_number(n) for n in _NUMBER.findall(source))
    missing = [n for n in _NUMBER.findall(text) if _number(n) not in numbers]
    for position, word in enumerate(_TOKEN.findall(text)):
        capitals = word if position else word[1:]
        if any(c.isupper() for c in capitals) and word.lower() not in words:
            missing.append(word)
    return missing
