"""APScheduler wiring: the crawl job, the weekly issue, and catch-up on start."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from digest import pipeline
from digest.config import Settings
from digest.errors import DigestError
from digest.models import Source
from digest.ops import (
    Clock,
    LockBusy,
    Operations,
    StopFlag,
    Stopped,
    jobs,
    stop_on_signals,
    utcnow,
)
from digest.ops.periods import due_week, next_fire, week_of, weekly_trigger
from digest.ops.stored_jobs import update_stored_jobs
from digest.pipeline import Embedder, Store

_log = logging.getLogger("digest.scheduler")

JOBS_TABLE = "apscheduler_jobs"
RETRY_BUSY = timedelta(minutes=10)  # the weekly job retries this soon when the lock was busy

# Jobs in a persistent APScheduler 3 job store are saved as "module:function" references,
# so the job functions below are module-level and find the running scheduler here.
_running: DigestScheduler | None = None


def _scheduler() -> DigestScheduler:
    if _running is None:
        raise DigestError("no digest scheduler is running in this process")
    return _running


def crawl_job() -> None:
    """Crawl the sources that are due, then analyze the week if anything is new."""
    _scheduler().crawl()


def weekly_job() -> None:
    """Draft or publish the issue of the week the latest weekly fire asked for, if not made yet."""
    _scheduler().weekly()


def job_store(store: Store) -> SQLAlchemyJobStore:
    """The store's job table, its jobs saved by an older version brought up to date."""
    jobs = SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)
    update_stored_jobs(jobs, {"crawl_job": crawl_job, "weekly_job": weekly_job})
    return jobs


class DigestScheduler:
    """The jobs of digest.toml on a background APScheduler whose jobs live in the store."""

    def __init__(
        self,
        settings: Settings,
        sources: Sequence[Source],
        store: Store,
        clock: Clock = utcnow,
        embedder: Callable[[], Embedder] | None = None,
        stop: StopFlag | None = None,
    ) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.ops = Operations(settings, store, clock, stop, unattended=True)
        self.policy = pipeline.fetch_policy(settings)
        self._make_embedder = embedder or (lambda: pipeline.load_embedder(settings))
        self._embedder: Embedder | None = None
        self.caught_up = threading.Event()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": job_store(store), "startup": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(1)},  # one stage at a time per process
            # The jobs themselves ask the store whether they are due, so a late fire is
            # always run (once) rather than dropped by APScheduler's misfire window.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=settings.schedule.timezone,
        )

    def embedder(self) -> Embedder:
        """Loaded on first use and kept: the weekly build and analysis share it."""
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def start(self) -> None:
        """Sync the stored jobs with digest.toml, start, and queue the catch-up check."""
        global _running
        _running = self
        with suppress(SQLAlchemyError):  # another scheduler may have created it a moment ago
            job_store(self.ops.store).jobs_t.create(self.ops.store.engine, checkfirst=True)
        self.scheduler.start(paused=True)
        self._sync_jobs()
        # Crawl jobs due now sit in the "default" store and run first; then the catch-up.
        self.scheduler.add_job(
            self._catch_up, id="catch-up", jobstore="startup", next_run_time=self._now()
        )
        self.scheduler.resume()

    def shutdown(self) -> None:
        """Wait for the running job (it stops at its next clean point), then stop."""
        self.ops.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        global _running
        if _running is self:
            _running = None

    def _now(self) -> datetime:
        return datetime.now(self.scheduler.timezone)

    def _sync_jobs(self) -> None:
        every = self.settings.schedule.crawl_every_minutes
        wanted: dict[str, tuple[Callable[[], None], object]] = {
            "crawl": (crawl_job, IntervalTrigger(minutes=every)),
            "weekly": (weekly_job, weekly_trigger(self.settings.schedule)),
        }
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                job.remove()
        for job_id, (func, trigger) in wanted.items():
            old = self.scheduler.get_job(job_id, jobstore="default")
            if old is not None and str(old.trigger) == str(trigger):
                # Kept with its stored next run time (schedules survive restarts), except a
                # crawl cut short by the last stop, which resumes now.
                if job_id == "crawl" and self._crawl_was_interrupted():
                    old.modify(next_run_time=self._now())
                continue
            first = {"next_run_time": self._now()} if job_id == "crawl" else {}
            with suppress(ConflictingIdError):  # another scheduler added it at the same moment
                self.scheduler.add_job(
                    func,
                    trigger,
                    id=job_id,
                    jobstore="default",
                    replace_existing=True,
                    **first,
                )

    def _crawl_was_interrupted(self) -> bool:
        last = self.ops.ledger.runs(1, stage="crawl")
        return bool(last) and last[0].status in ("interrupted", "running")

    def stored_jobs(self) -> list[Job]:
        return list(self.scheduler.get_jobs(jobstore="default"))

    def _catch_up(self) -> None:
        try:
            self.weekly()
        finally:
            self.caught_up.set()

    def crawl(self) -> None:
        try:
            report = jobs.crawl(self.ops, self.sources, self.policy)
        except LockBusy as exc:
            _log.info("crawl skipped: %s", exc)
            return
        except DigestError:
            return  # recorded in the runs table (and alerted) by the run itself
        if not (self.settings.schedule.analyze_after_crawl and report.new_articles):
            return
        monday = week_of(
            self.ops.clock(), self.settings.schedule.model_copy(update={"issue_week": "current"})
        )
        try:
            jobs.analyze(self.ops, self.sources, self.embedder(), monday)
        except LockBusy:
            _log.info("analysis skipped: another process holds the lock")
        except DigestError:
            return

    def weekly(self) -> jobs.IssueOutcome | None:
        """Make the due week's issue unless the store says it was made already."""
        monday = due_week(self.settings.schedule, self.ops.clock())
        if monday is None:
            return None
        try:
            outcome = jobs.make_issue(self.ops, self.sources, monday, self.embedder)
        except Stopped:
            return None
        except LockBusy as exc:
            _log.warning("the weekly issue waits: %s; trying again in %s", exc, RETRY_BUSY)
            self.scheduler.add_job(
                weekly_job, jobstore="startup", next_run_time=self._now() + RETRY_BUSY
            )
            return None
        except DigestError:
            return None  # recorded and alerted by the run
        if outcome.made_before is not None:
            when = outcome.made_before.ended_at or outcome.made_before.started_at
            _log.info(
                "issue %s was made already (%s, %s UTC); nothing to do",
                outcome.issue_id,
                outcome.made_before.stage,
                f"{when:%Y-%m-%d %H:%M}",
            )
        return outcome


def next_runs(settings: Settings, store: Store, now: datetime) -> list[tuple[str, datetime | None]]:
    """Job id and next run time, from the store's job table when a scheduler has run on it."""
    found: list[tuple[str, datetime | None]] = []
    jobstore = job_store(store)
    try:
        if inspect(store.engine).has_table(JOBS_TABLE):
            jobstore.start(BackgroundScheduler(), "default")
            found = [(j.id, j.next_run_time) for j in jobstore.get_all_jobs()]
    except (SQLAlchemyError, LookupError) as exc:
        _log.warning("cannot read the scheduler's jobs from the store: %s", exc)
    if not found:
        found = [("weekly (not scheduled yet)", next_fire(weekly_trigger(settings.schedule), now))]
    return found


def run_forever(
    settings: Settings, sources: Sequence[Source], store: Store, say: Callable[[str], None]
) -> None:
    """`digest schedule`: run until SIGTERM or SIGINT, then finish the current step and return.

    A second signal exits at once; the store stays consistent (each write is one transaction)
    and the unfinished run is marked interrupted by the next process that takes the lock.
    """
    stop = StopFlag()
    stop_on_signals(stop, say)
    scheduler = DigestScheduler(settings, sources, store, stop=stop)
    try:
        scheduler.start()
        for job in scheduler.stored_jobs():
            say(f"{job.id}: next run {job.next_run_time:%a %Y-%m-%d %H:%M %Z}")
        while not stop.wait(1.0):
            pass
        say("stopping: waiting for the current step to finish")
        scheduler.shutdown()
    except KeyboardInterrupt:
        say("stopped at once")
        logging.shutdown()
        os._exit(130)
