"""The crawl stage: fetch every source and return its articles, or why there are none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from digest.crawl.extract import with_full_text
from digest.crawl.http import FetchPolicy, RetryLater, Withdrawn, open_fetcher
from digest.crawl.parsing import parse_pool
from digest.crawl.robots import RobotsFile, RobotsRules
from digest.crawl.sources import source_kind
from digest.crawl.visit import Validators, Visit
from digest.errors import DigestError
from digest.models import Article, Source, SourceHealth

__all__ = [
    "CrawlMemory",
    "FetchPolicy",
    "SourceResult",
    "add_full_text_sync",
    "crawl",
    "crawl_sync",
]

_log = logging.getLogger(__name__)


def _nothing_known(urls: Sequence[str]) -> set[str]:
    return set()


@dataclass
class CrawlMemory:
    """What the store remembers for the crawl; `robots` gains the files fetched this crawl."""

    health: Mapping[str, SourceHealth] = field(default_factory=dict)
    robots: dict[str, RobotsFile] = field(default_factory=dict)
    known: Callable[[Sequence[str]], set[str]] = _nothing_known  # URLs already stored
    full_text_pages: int = 20  # article pages fetched per source per crawl


@dataclass(frozen=True)
class SourceResult:
    """What crawling one source gave: its articles, or a sentence saying what to fix."""

    source: Source
    articles: Sequence[Article]  # packed (see PackedArticles) when parsed in a worker
    error: str | None = None
    not_modified: bool = False  # the server answered 304: nothing changed since last time
    validators: Validators = field(default_factory=Validators)
    retry_after: float | None = None  # seconds the server asked us to wait
    withdrawn: bool = False  # not fetched: the crawl was stopping when its turn came
    warnings: tuple[str, ...] = ()  # what was wrong with a document read anyway

    @property
    def ok(self) -> bool:
        """True when the source was read, even if it listed no articles."""
        return self.error is None


async def crawl(
    sources: Sequence[Source],
    policy: FetchPolicy,
    on_done: Callable[[SourceResult], None] | None = None,
    memory: CrawlMemory | None = None,
    stopping: Callable[[], bool] | None = None,
) -> list[SourceResult]:
    """One result per source, in the order given; one failing source never stops the others.

    `on_done` is called with each result as soon as it is ready (for progress display, and
    for storing while the others are fetched). Once `stopping()` is true, sources not yet
    started are withdrawn (not fetched); those started are finished.
    """
    memory = memory or CrawlMemory()
    with parse_pool(len(sources)):
        return await _crawl_all(sources, policy, on_done, memory, stopping)


async def _crawl_all(
    sources: Sequence[Source],
    policy: FetchPolicy,
    on_done: Callable[[SourceResult], None] | None,
    memory: CrawlMemory,
    stopping: Callable[[], bool] | None,
) -> list[SourceResult]:
    async with open_fetcher(policy) as fetcher:
        robots = RobotsRules(fetcher, memory.robots)

        async def crawl_one(source: Source) -> SourceResult:
            visit = Visit(fetcher, source.url, memory.health.get(source.name), stopping)
            result = await _read(visit, source)
            if result.articles and source.full_text and memory.full_text_pages:
                result = await _add_full_text(result, visit, robots, memory)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(crawl_one(s) for s in sources)))


def crawl_sync(
    sources: Sequence[Source],
    policy: FetchPolicy,
    on_done: Callable[[SourceResult], None] | None = None,
    memory: CrawlMemory | None = None,
    stopping: Callable[[], bool] | None = None,
) -> list[SourceResult]:
    """`crawl` for callers without an event loop."""
    return asyncio.run(crawl(sources, policy, on_done, memory, stopping))


def add_full_text_sync(
    result: SourceResult, policy: FetchPolicy, memory: CrawlMemory
) -> SourceResult:
    """The full text `crawl` would have added to a result read without it (for executors
    that read a source in one place and fetch its pages in another)."""

    async def add() -> SourceResult:
        async with open_fetcher(policy) as fetcher:
            robots = RobotsRules(fetcher, memory.robots)
            return await _add_full_text(result, Visit(fetcher, result.source.url), robots, memory)

    return asyncio.run(add())


async def _read(visit: Visit, source: Source) -> SourceResult:
    kind = source_kind(source.kind)
    if kind is None:
        return SourceResult(source, (), f"source kind {source.kind!r} is not supported yet")
    try:
        articles = await kind.read(visit, source)
    except Withdrawn:
        return SourceResult(source, (), withdrawn=True)
    except RetryLater as exc:
        return SourceResult(source, (), str(exc), retry_after=exc.retry_after)
    except DigestError as exc:
        return SourceResult(source, (), str(exc))
    except Exception as exc:
        # A bug or a feed nobody foresaw must cost one source, not the whole crawl.
        _log.exception("crawling %s (%s) failed unexpectedly", source.name, source.url)
        return SourceResult(
            source, (), f"unexpected {type(exc).__name__} while reading {source.url}: {exc}"
        )
    return SourceResult(
        source,
        articles,
        not_modified=visit.not_modified,
        validators=visit.validators,
        warnings=tuple(visit.warnings),
    )


async def _add_full_text(
    result: SourceResult, visit: Visit, robots: RobotsRules, memory: CrawlMemory
) -> SourceResult:
    """Fetch the pages of the source's new link items (not self-posts) for their full text."""
    known = memory.known([a.url for a in result.articles])
    wanted = [a for a in result.articles if a.url not in known and a.url != a.discussion_url][
        : memory.full_text_pages
    ]
    pages = await with_full_text(visit.fetcher, robots, wanted, visit.permit)
    texts = {a.id: a for a in pages}
    return replace(result, articles=tuple(texts.get(a.id, a) for a in result.articles))
