"""Writing the week's issue: the writer [writer] names, grounding, and the Issue it makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from digest import clock
from digest.analyze import Embedder, WeekAnalysis
from digest.config import Settings, WriterSettings
from digest.errors import ConfigError
from digest.models import Issue
from digest.pipeline.week import issue_id
from digest.registry import Registry, one_of
from digest.write import (
    CHAT_BACKENDS,
    Caller,
    CallPolicy,
    Connection,
    ExtractiveWriter,
    Grounder,
    LLMWriter,
    NoCache,
    Prompts,
    ResponseCache,
    SentenceVectors,
    Usage,
    Writer,
    WriteReport,
    open_backend,
    write_issue,
)

MakeWriter = Callable[
    [WriterSettings, ExtractiveWriter, ResponseCache], tuple[Writer, Usage | None]
]
# Writers by [writer] backend name; an LLM writer is made for every chat backend's name too.
# A package adds a writer through the entry point group `digest.writers`.
WRITERS: Registry[MakeWriter] = Registry("digest.writers")


@WRITERS.register("extractive")
def extractive_writer(
    w: WriterSettings, fallback: ExtractiveWriter, cache: ResponseCache
) -> tuple[Writer, Usage | None]:
    """The sources' own sentences: no network, no key."""
    return fallback, None


def llm_writer(
    w: WriterSettings, fallback: ExtractiveWriter, cache: ResponseCache
) -> tuple[Writer, Usage | None]:
    """An LLM writer on the chat backend named [writer] backend, and its usage."""
    backend = open_backend(Connection(w.backend, w.model, w.base_url, w.api_key_env, w.timeout))
    policy = CallPolicy(
        w.max_tokens,
        w.temperature,
        w.retries,
        w.backoff,
        w.breaker_after,
        w.budget_tokens,
        w.budget_cost,
        w.price_input,
        w.price_output,
    )
    caller = Caller(backend, cache, policy)
    return LLMWriter(caller, Prompts(w.prompts), fallback, w.stories_per_theme), caller.usage


def writer_named(name: str) -> MakeWriter:
    """The writer [writer] backend names; ConfigError listing the names known when none."""
    made = WRITERS.get(name)
    if made is not None:
        return made
    if CHAT_BACKENDS.get(name) is not None:
        return llm_writer
    known = one_of([*WRITERS.known(), *CHAT_BACKENDS.known()])
    raise ConfigError(f"[writer] backend = {name!r} is unknown; use {known}")


def make_writer(
    settings: Settings, fallback: ExtractiveWriter, cache: ResponseCache
) -> tuple[Writer, Usage | None]:
    """The writer named in [writer] backend, and the usage its calls add up to (LLMs only)."""
    return writer_named(settings.writer.backend)(settings.writer, fallback, cache)


def write(
    analysis: WeekAnalysis,
    embedder: Embedder,
    monday: date,
    settings: Settings,
    cache: ResponseCache | None = None,
) -> Issue:
    """Write the issue with the configured writer (see write_reported)."""
    return write_reported(analysis, embedder, monday, settings, cache)[0]


def write_reported(
    analysis: WeekAnalysis,
    embedder: Embedder,
    monday: date,
    settings: Settings,
    cache: ResponseCache | None = None,
) -> tuple[Issue, WriteReport]:
    """The issue written by the configured writer, every part grounded, and how it went."""
    vectors = SentenceVectors(embedder.embed)  # shared: grounding reuses the writer's vectors
    fallback = ExtractiveWriter(vectors, settings.writer.stories_per_theme)
    writer, usage = make_writer(settings, fallback, cache or NoCache())
    report = WriteReport(settings.writer.backend, usage=usage)
    papers = analysis.papers
    quick = [s for s in analysis.unthemed if s not in papers]
    grounder = Grounder(vectors, settings.writer.support_threshold)
    written = write_issue(
        writer,
        fallback,
        grounder,
        analysis.themes,
        quick,
        papers,
        report,
        settings.analyze.quick_hits,
        settings.writer.research,
    )
    if isinstance(writer, LLMWriter):
        report.fallbacks[:0] = writer.fallbacks
    week = monday.isocalendar()[1]
    sections = written.sections
    lead = sections[0].summary.headline if sections else "a quiet week"
    issue = Issue(
        id=issue_id(monday),
        title=f"Week {week}: {lead}",
        week_start=monday,
        week_end=monday + timedelta(days=6),
        built_at=clock.now().replace(microsecond=0),
        intro=written.intro,
        sections=sections,
        quick_hits=written.quick_hits,
        research=written.research,
        watch=written.watch,
    )
    return issue, report
