"""The crawl stage: fetch every source and return its articles, or why there are none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from digest.crawl.http import Fetcher, FetchPolicy, open_fetcher
from digest.crawl.rss import read_feed
from digest.errors import DigestError
from digest.models import Article, Source

__all__ = ["FetchPolicy", "SourceResult", "crawl", "crawl_sync"]

_log = logging.getLogger(__name__)

Reader = Callable[[Fetcher, Source], Awaitable[tuple[Article, ...]]]
_READERS: dict[str, Reader] = {"feed": read_feed}


@dataclass(frozen=True)
class SourceResult:
    """What crawling one source gave: its articles, or a sentence saying what to fix."""

    source: Source
    articles: tuple[Article, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the source was read, even if it listed no articles."""
        return self.error is None


async def crawl(
    sources: Sequence[Source],
    policy: FetchPolicy,
    on_done: Callable[[SourceResult], None] | None = None,
) -> list[SourceResult]:
    """One result per source, in the order given; one failing source never stops the others.

    `on_done` is called with each result as soon as it is ready, for progress display.
    """
    async with open_fetcher(policy) as fetcher:

        async def crawl_one(source: Source) -> SourceResult:
            result = await _read(fetcher, source)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(crawl_one(s) for s in sources)))


def crawl_sync(
    sources: Sequence[Source],
    policy: FetchPolicy,
    on_done: Callable[[SourceResult], None] | None = None,
) -> list[SourceResult]:
    """`crawl` for callers without an event loop."""
    return asyncio.run(crawl(sources, policy, on_done))


async def _read(fetcher: Fetcher, source: Source) -> SourceResult:
    reader = _READERS.get(source.kind)
    if reader is None:
        return SourceResult(source, (), f"source kind {source.kind!r} is not supported yet")
    try:
        return SourceResult(source, await reader(fetcher, source))
    except DigestError as exc:
        return SourceResult(source, (), str(exc))
    except Exception as exc:
        # A bug or a feed nobody foresaw must cost one source, not the whole crawl.
        _log.exception("crawling %s (%s) failed unexpectedly", source.name, source.url)
        return SourceResult(
            source, (), f"unexpected {type(exc).__name__} while reading {source.url}: {exc}"
        )
