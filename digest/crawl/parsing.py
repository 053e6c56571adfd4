"""Feed parsing off the event loop, in worker processes, so that fetches go on meanwhile."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from multiprocessing.context import BaseContext

from digest.crawl.packed import PackedArticles
from digest.models import Article

POOL_FROM = 40  # sources in one crawl from which worker processes repay their start-up

_pool: ContextVar[Executor | None] = ContextVar("digest_parse_pool", default=None)


@dataclass(frozen=True)
class Parsed:
    """A source's articles, and what was wrong with the document they were salvaged from."""

    articles: Sequence[Article]
    warnings: tuple[str, ...] = ()


@contextmanager
def parse_pool(sources: int) -> Iterator[None]:
    """Within the block, `off_loop` parses in one worker process per core (for big crawls)."""
    if sources < POOL_FROM:
        yield
        return
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=worker_context()) as pool:
        token = _pool.set(pool)
        try:
            yield
        finally:
            _pool.reset(token)


def worker_context() -> BaseContext:
    """How crawl worker processes start: forked from a server that imported what they need."""
    # forkserver, not fork: the crawl may run in a process with threads (the scheduler's).
    context = multiprocessing.get_context("forkserver")
    # A worker imports the main module again (for `digest`: all of digest, scikit-learn among
    # it), ~3 s of CPU each. With the digest modules loaded here imported once in the server,
    # every worker forked from it has them, and the main module's imports cost nothing.
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] == "digest")
    context.set_forkserver_preload(loaded)
    return context


async def off_loop(parse: Callable[..., Parsed], *args: object) -> Parsed:
    """`parse(*args)` in a worker process when a pool is open (articles packed), else here."""
    pool = _pool.get()
    if pool is None:
        return parse(*args)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, _packed, parse, *args)
    except BrokenProcessPool:
        return parse(*args)  # a worker died (out of memory, killed): parse here instead


def _packed(parse: Callable[..., Parsed], *args: object) -> Parsed:
    parsed = parse(*args)
    return replace(parsed, articles=PackedArticles.pack(parsed.articles))
