"""The write stage: the Writer protocol, its backends (found by name) and the editorial check."""

from __future__ import annotations

from digest.write.backends import CHAT_BACKENDS, Connection, open_backend
from digest.write.calls import Caller, CallPolicy, NoCache, ResponseCache, Usage
from digest.write.check import CheckReport, check_issue, cited_ids
from digest.write.compose import WriteReport, write_issue
from digest.write.extractive import ExtractiveWriter
from digest.write.grounding import Grounder
from digest.write.llm import LLMWriter
from digest.write.prompts import Prompts
from digest.write.said import grounded, what_people_said
from digest.write.vectors import SentenceVectors
from digest.write.writer import EmbedTexts, Writer

__all__ = [
    "CHAT_BACKENDS",
    "CallPolicy",
    "Caller",
    "CheckReport",
    "Connection",
    "EmbedTexts",
    "ExtractiveWriter",
    "Grounder",
    "LLMWriter",
    "NoCache",
    "Prompts",
    "ResponseCache",
    "SentenceVectors",
    "Usage",
    "WriteReport",
    "Writer",
    "check_issue",
    "cited_ids",
    "grounded",
    "open_backend",
    "what_people_said",
    "write_issue",
]
