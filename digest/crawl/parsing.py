"""Feed parsing off the event loop, in worker processes, so that fetches go on meanwhile."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

POOL_FROM = 40  # sources in one crawl from which worker processes repay their start-up

_T = TypeVar("_T")
_pool: ContextVar[Executor | None] = ContextVar("digest_parse_pool", default=None)


@contextmanager
def parse_pool(sources: int) -> Iterator[None]:
    """Within the block, `off_loop` parses in one worker process per core (for big crawls)."""
    if sources < POOL_FROM:
        yield
        return
    # forkserver, not fork: the crawl may run in a process with threads (the scheduler's).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["digest.crawl.rss"])
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        token = _pool.set(pool)
        try:
            yield
        finally:
            _pool.reset(token)


async def off_loop(parse: Callable[..., _T], *args: object) -> _T:
    """`parse(*args)` in a worker process when a pool is open, else here."""
    pool = _pool.get()
    if pool is None:
        return parse(*args)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, parse, *args)
    except BrokenProcessPool:
        return parse(*args)  # a worker died (out of memory, killed): parse here instead
