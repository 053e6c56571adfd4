"""The crawl stage: fetch the due sources, storing each in sources.yaml order as the crawl goes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor as Pool
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from digest import clock
from digest.crawl import CrawlMemory, FetchPolicy, SourceResult
from digest.crawl.backoff import failed, is_due, succeeded
from digest.crawl.parsing import POOL_FROM, worker_context
from digest.models import Article, Source, SourceHealth
from digest.pipeline.executors import LOCAL, Executor
from digest.store import Store

STOPPED = "not fetched: the crawl was stopped first"


@dataclass(frozen=True)
class SourceOutcome:
    """What one source gave this crawl: new articles, or the reason it gave none."""

    source: str
    fetched: int
    new: int
    error: str | None
    note: str = ""  # "not modified", or why the source was not fetched this time
    withdrawn: bool = False  # not fetched because the crawl was stopping
    warning: str = ""  # what was salvaged from a faulty document


@dataclass(frozen=True)
class CrawlReport:
    outcomes: tuple[SourceOutcome, ...]

    @property
    def withdrawn(self) -> tuple[SourceOutcome, ...]:
        """Sources not fetched because the crawl was stopping: the next crawl fetches them."""
        return tuple(o for o in self.outcomes if o.withdrawn)

    @property
    def new_articles(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def failed(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if o.error)


def crawl(
    sources: Sequence[Source],
    store: Store,
    policy: FetchPolicy,
    on_source: Callable[[SourceResult], None] | None = None,
    *,
    force: bool = False,
    full_text_pages: int = 20,
    backoff_max: float = 86400.0,
    stopping: Callable[[], bool] | None = None,
    executor: Executor = LOCAL,
) -> CrawlReport:
    """Fetch every due source and keep what is new; a failing source is reported, never fatal.

    A source is due when its interval has passed since the last visit and it is not backing
    off after failures; `force` fetches every source now. Each source is stored as the crawl
    goes, in the order of `sources`; once `stopping()` is true, no more sources are started.
    `executor` runs the fetches.
    """
    now = clock.now()
    health = store.source_health()
    due = [s for s in sources if force or is_due(s, health.get(s.name), now)]
    fetched_at = now
    outcomes: dict[str, SourceOutcome] = {}
    states: list[SourceHealth] = []
    with StoreInOrder(store, due, fetched_at) as storing:

        def finished(r: SourceResult) -> None:
            storing.finished(r)
            if on_source is not None and not r.withdrawn:
                on_source(r)

        memory = CrawlMemory(health, store.robots_files(), storing.held_before, full_text_pages)
        results = executor.crawl(due, policy, finished, memory, stopping)
    for position, r in enumerate(results):
        if r.withdrawn:
            outcomes[r.source.name] = SourceOutcome(r.source.name, 0, 0, None, STOPPED, True)
            continue
        name, previous, new = r.source.name, health.get(r.source.name), storing.new(position)
        warning = "; ".join(r.warnings)
        if r.not_modified and previous is not None:
            warning = previous.last_warning  # the same document, so the same faults
        if r.error is None:
            v = r.validators
            validated = (v.url, v.etag, v.last_modified, v.at)
            states.append(succeeded(r.source, previous, fetched_at, new, validated, warning))
        else:
            states.append(
                failed(r.source, previous, fetched_at, r.error, backoff_max, r.retry_after)
            )
        note = "not modified" if r.not_modified else ""
        outcomes[name] = SourceOutcome(name, len(r.articles), new, r.error, note, warning=warning)
    store.save_source_health(states)
    store.save_robots_files({o: f for o, f in memory.robots.items() if f[2] >= now})
    for s in sources:
        if s.name not in outcomes:
            outcomes[s.name] = SourceOutcome(s.name, 0, 0, None, _waiting(health[s.name]))
    return CrawlReport(tuple(outcomes[s.name] for s in sources))


def _waiting(state: SourceHealth) -> str:
    when = state.next_attempt.strftime("%Y-%m-%d %H:%M UTC") if state.next_attempt else "now"
    if state.failures:
        return f"backing off until {when} after {state.failures} failures: {state.last_error}"
    return f"not due until {when}"


class StoreInOrder:
    """Stores crawled sources in the order given (sources.yaml's), however fetches finish.

    When two sources carry the same URL, the first one's copy is kept, and that must not
    depend on network timing; so a source finished early waits for those listed before it.
    Storing runs beside the event loop, so fetching goes on meanwhile: for a big crawl in a
    process of its own (off the loop's GIL), otherwise in a thread. While it is busy, the
    sources that come in turn gather, to be stored together in one transaction.
    """

    def __init__(self, store: Store, sources: Sequence[Source], fetched_at: datetime) -> None:
        self._store = store
        # Only sources that fetch full text ask held_before, so only then is it kept up.
        self._watch = any(s.full_text for s in sources)
        self._fetched_at = fetched_at
        self._position = {id(s): i for i, s in enumerate(sources)}  # names may repeat
        self._finished: dict[int, SourceResult] = {}
        self._next = 0
        self._gathered: list[tuple[int, SourceResult]] = []
        self._turns: list[tuple[list[int], Future[list[int]]]] = []
        self._new: dict[int, int] = {}
        self._added: set[str] = set()  # URLs this crawl stored that were not held before
        url = store.engine.url
        self._target: Store | str = store
        self._storer: Pool
        if len(sources) >= POOL_FROM and url.database not in (None, "", ":memory:"):
            self._target = url.render_as_string(hide_password=False)
            self._storer = ProcessPoolExecutor(max_workers=1, mp_context=worker_context())
        else:
            self._storer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-store")

    def __enter__(self) -> StoreInOrder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._gathered:
            self._hand_over()
        self._storer.shutdown(wait=True)  # the sources handed over are stored whole
        if error is None:
            for positions, turn in self._turns:
                self._new.update(zip(positions, turn.result(), strict=True))

    def finished(self, result: SourceResult) -> None:
        """Take a source's result (on the event loop's thread) and store what is in turn."""
        self._finished[self._position[id(result.source)]] = result
        while self._next in self._finished:
            ready = self._finished.pop(self._next)
            if not ready.withdrawn:
                self._gathered.append((self._next, ready))
            self._next += 1
        if self._gathered and (not self._turns or self._turns[-1][1].done()):
            self._hand_over()

    def _hand_over(self) -> None:
        batch, self._gathered = self._gathered, []
        for _, r in batch if self._watch else ():
            if urls := {a.url for a in r.articles}:
                # Noted before they are stored, so held_before never sees them in between.
                self._added |= urls - self._store.known_urls(urls)
        articles = [r.articles for _, r in batch]
        turn = self._storer.submit(_add_sources, self._target, articles, self._fetched_at)
        self._turns.append(([position for position, _ in batch], turn))

    def new(self, position: int) -> int:
        """How many articles of the source at `position` were new (once the block has ended)."""
        return self._new[position]

    def held_before(self, urls: Iterable[str]) -> set[str]:
        """Which of these URLs the store held before this crawl (as an article or an alias).

        What this crawl stored is left out, so that which pages are fetched for full text
        does not depend on how far storing has got.
        """
        return self._store.known_urls(urls) - self._added


_opened: dict[str, Store] = {}  # in a storing process: its own Store, by URL


def _add_sources(
    store: Store | str, sources: list[Sequence[Article]], fetched_at: datetime
) -> list[int]:
    if isinstance(store, str):
        store = _opened.get(store) or _opened.setdefault(store, Store(store))
    return store.add_crawled_sources(sources, fetched_at)
