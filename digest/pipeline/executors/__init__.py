"""Executors: where the crawl's fetches and the embedding batches run, here or on Ray."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from digest.analyze import Embedder, make_embedder
from digest.config import EmbedSettings, ExecutorSettings
from digest.crawl import CrawlMemory, FetchPolicy, SourceResult, crawl_sync
from digest.errors import ConfigError
from digest.models import Source
from digest.registry import Registry


class Executor(Protocol):
    """Runs the stage code: one result per source in the order given, and an embedder."""

    def crawl(
        self,
        sources: Sequence[Source],
        policy: FetchPolicy,
        on_done: Callable[[SourceResult], None] | None,
        memory: CrawlMemory,
        stopping: Callable[[], bool] | None = None,
    ) -> list[SourceResult]: ...

    def embedder(self, embed: EmbedSettings) -> Embedder: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Everything in this process: the crawl on one event loop, the model loaded here."""

    def crawl(
        self,
        sources: Sequence[Source],
        policy: FetchPolicy,
        on_done: Callable[[SourceResult], None] | None,
        memory: CrawlMemory,
        stopping: Callable[[], bool] | None = None,
    ) -> list[SourceResult]:
        return crawl_sync(sources, policy, on_done, memory, stopping)

    def embedder(self, embed: EmbedSettings) -> Embedder:
        return make_embedder(embed.model, embed.backend, embed.device, embed.batch_size)

    def close(self) -> None:
        return None


LOCAL = LocalExecutor()
EXECUTORS: Registry[Callable[[ExecutorSettings], Executor]] = Registry("digest.executors")
_open: dict[ExecutorSettings, Executor] = {}


@EXECUTORS.register("local")
def _local(settings: ExecutorSettings) -> Executor:
    return LOCAL


@EXECUTORS.register("ray")
def _ray(settings: ExecutorSettings) -> Executor:
    try:
        from digest.pipeline.executors.ray_cluster import RayExecutor
    except ImportError as exc:
        raise ConfigError(
            f"[executor] kind = 'ray' needs Ray ({exc}): pip install 'digest[ray]'"
        ) from exc
    return RayExecutor(settings)


def executor_for(settings: ExecutorSettings) -> Executor:
    """The executor registered as [executor] kind; one is opened (a Ray one connects) once per
    process and reused."""
    if settings not in _open:
        factory = EXECUTORS.get(settings.kind)
        if factory is None:
            raise ConfigError(
                f"[executor] kind = {settings.kind!r} is unknown; use {EXECUTORS.choices()}"
            )
        _open[settings] = factory(settings)
    return _open[settings]


def close_executors() -> None:
    """Let go of every executor opened: a local Ray that digest started stops with its processes."""
    while _open:
        _open.popitem()[1].close()
