"""A store whose scheduler jobs an older digest saved (as `digest.scheduler:*`) still starts."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest.config import ScheduleSettings, load_settings
from digest.crawl.sources import load_sources
from digest.ops.periods import weekly_trigger
from digest.ops.scheduler import DigestScheduler, job_store
from digest.store import Store
from digest.store.runs import RunLog
from tests.opskit import WordHashEmbedder, base_url, feed_server, write_config

BERLIN = ZoneInfo("Europe/Berlin")
NEXT_ISSUE = datetime(2030, 1, 4, 9, tzinfo=BERLIN)  # the weekly fire the old version saved


def friday_noon() -> datetime:  # the sample week's issue (2026-w47) is due
    return datetime(2026, 11, 20, 12, tzinfo=UTC)


def _old_scheduler_module() -> ModuleType:
    """digest/scheduler.py as it was before the move into digest/ops: jobs by function path."""
    module = ModuleType("digest.scheduler")

    def crawl_job(minutes: int) -> None: ...

    def weekly_job() -> None: ...

    def gone_job() -> None: ...  # a job no later version has

    module.gone_job = gone_job  # type: ignore[attr-defined]
    module.crawl_job = crawl_job  # type: ignore[attr-defined]
    module.weekly_job = weekly_job  # type: ignore[attr-defined]
    return module


def _save_old_jobs(
    store: Store, schedule: ScheduleSettings, every: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job table as the old version left it: its scheduler's jobs, saved by APScheduler."""
    with monkeypatch.context() as old:
        old.setitem(sys.modules, "digest.scheduler", _old_scheduler_module())
        scheduler = BackgroundScheduler(timezone=BERLIN)
        table = job_store(store)
        table.start(scheduler, "default")
        jobs = (
            ("crawl", IntervalTrigger(minutes=every), (every,), datetime.now(UTC)),  # due now
            ("weekly", weekly_trigger(schedule), (), NEXT_ISSUE),
            ("gone", IntervalTrigger(minutes=5), (), NEXT_ISSUE),
        )
        for job_id, trigger, args, next_run in jobs:
            func = f"digest.scheduler:{job_id}_job"
            table.add_job(
                Job(
                    scheduler,
                    id=job_id,
                    func=func,
                    trigger=trigger,
                    executor="default",
                    args=args,
                    kwargs={},
                    name=func,
                    misfire_grace_time=None,
                    coalesce=True,
                    max_instances=1,
                    next_run_time=next_run,
                )
            )
    assert "digest.scheduler" not in sys.modules


def test_jobs_saved_under_the_old_module_path_run_and_keep_their_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with feed_server() as server:
        config = write_config(
            tmp_path, base_url(server), first=2, schedule={"weekly": "0 9 * * fri"}
        )
        settings = load_settings(config)
        store = Store(settings.store.url)
        _save_old_jobs(store, settings.schedule, settings.schedule.crawl_every_minutes, monkeypatch)
        caplog.set_level(logging.INFO)
        scheduler = DigestScheduler(
            settings, load_sources(settings.sources), store, friday_noon, WordHashEmbedder
        )
        scheduler.start()
        try:
            jobs = {j.id: j for j in scheduler.stored_jobs()}
            crawled = RunLog(store).runs(1, stage="crawl")
            for _ in range(600):  # the crawl job, due when the scheduler started, runs
                if crawled and crawled[0].status != "running":
                    break
                time.sleep(0.1)
                crawled = RunLog(store).runs(1, stage="crawl")
            assert scheduler.caught_up.wait(300)
        finally:
            scheduler.shutdown()
            store.close()
    assert sorted(jobs) == ["crawl", "weekly"]
    assert jobs["weekly"].next_run_time == NEXT_ISSUE  # kept, not scheduled afresh
    assert {j.func_ref for j in jobs.values()} == {
        "digest.ops.scheduler:crawl_job",
        "digest.ops.scheduler:weekly_job",
    }
    assert [(r.status, r.sources) for r in crawled] == [("ok", ("OpenAI Blog", "Anthropic News"))]
    troubles = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert troubles == []  # APScheduler restored every job: no "Unable to restore job"
