"""Scheduling: the due week from the cron, the store's lock, catch-up after downtime, alerts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from rich.console import Console

from digest.config import ScheduleSettings, Settings, load_settings
from digest.crawl.sources import load_sources
from digest.errors import ConfigError
from digest.models import Source
from digest.ops import LOCK, Operations, jobs, status
from digest.ops.periods import due_week
from digest.ops.scheduler import DigestScheduler
from digest.store import Store
from digest.store.runs import RunLog
from tests.opskit import WordHashEmbedder, base_url, feed_server, webhook_receiver, write_config

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_9_BERLIN = {"weekly": "0 9 * * fri", "timezone": "Europe/Berlin"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_due_week_is_read_from_the_cron_in_its_time_zone() -> None:
    schedule = ScheduleSettings(**FRIDAY_9_BERLIN)  # type: ignore[arg-type]
    before = datetime(2026, 11, 20, 8, 59, tzinfo=BERLIN)
    assert due_week(schedule, before) == date(2026, 11, 9)  # last fire: Friday the 13th
    assert due_week(schedule, before + timedelta(minutes=1)) == date(2026, 11, 16)
    # 08:00 UTC is 09:00 in Berlin in November.
    assert due_week(schedule, datetime(2026, 11, 20, 8, 0, tzinfo=UTC)) == date(2026, 11, 16)
    previous = schedule.model_copy(update={"issue_week": "previous"})
    assert due_week(previous, datetime(2026, 11, 23, 12, tzinfo=BERLIN)) == date(2026, 11, 9)


def test_bad_schedule_is_refused_naming_the_key(tmp_path: Path) -> None:
    for line, words in (
        ('weekly = "0 9 * * 5"', "weekday"),
        ('weekly = "every friday"', "5 fields"),
        ('timezone = "Mars/Olympus"', "time zone"),
    ):
        (tmp_path / "digest.toml").write_text(f"[schedule]\n{line}\n")
        with pytest.raises(ConfigError, match="schedule") as caught:
            load_settings(tmp_path / "digest.toml")
        assert words in str(caught.value)


def test_lock_is_had_by_one_owner_until_it_expires(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ledger, now, ttl = RunLog(store), datetime(2026, 11, 20, tzinfo=UTC), timedelta(minutes=10)
    assert ledger.take_lock(LOCK, "a", now, ttl)
    assert not ledger.take_lock(LOCK, "b", now + timedelta(minutes=9), ttl)
    assert ledger.take_lock(LOCK, "a", now + timedelta(minutes=9), ttl)  # renewed to 19 min
    assert not ledger.take_lock(LOCK, "b", now + timedelta(minutes=18), ttl)
    assert ledger.take_lock(LOCK, "b", now + timedelta(minutes=20), ttl)  # a's expired
    assert not ledger.take_lock(LOCK, "a", now + timedelta(minutes=21), ttl)
    ledger.release_lock(LOCK, "a")  # not a's to release
    assert ledger.lock_holder(LOCK, now + timedelta(minutes=21)).owner == "b"  # type: ignore[union-attr]
    ledger.release_lock(LOCK, "b")
    assert ledger.take_lock(LOCK, "a", now + timedelta(minutes=21), ttl)
    store.close()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample week crawled once (its server is gone afterwards: later crawls fail)."""
    folder = tmp_path_factory.mktemp("crawled")
    with feed_server() as server:
        settings = load_settings(write_config(folder, base_url(server)))
        store = Store(settings.store.url)
        jobs.crawl(
            Operations(settings, store),
            load_sources(settings.sources),
            jobs.pipeline.fetch_policy(settings),
        )
        store.close()
    return folder / "digest.db"


@pytest.fixture
def crawled(sample_db: Path, tmp_path: Path) -> tuple[Settings, Store, Path]:
    """A copy of the crawled store, with settings for a Friday 09:00 Berlin issue."""
    shutil.copy(sample_db, tmp_path / "digest.db")
    config = write_config(tmp_path, "http://127.0.0.1:9", schedule=FRIDAY_9_BERLIN)
    settings = load_settings(config)
    return settings, Store(settings.store.url), config


def _issue_runs(store: Store) -> list[tuple[str, str | None, str]]:
    return [(r.stage, r.period, r.status) for r in RunLog(store).runs(50) if r.stage != "crawl"]


def test_missed_weekly_run_is_made_once_on_start(crawled: tuple[Settings, Store, Path]) -> None:
    settings, store, _ = crawled
    # Down over Friday 20 November 09:00: started on Monday, the week-47 issue is due.
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN))
    embedder = WordHashEmbedder()
    sources = load_sources(settings.sources)

    first = DigestScheduler(settings, sources, store, clock, lambda: embedder)
    first.start()
    assert first.caught_up.wait(120)
    weekly_next = {j.id: j.next_run_time for j in first.stored_jobs()}
    first.shutdown()
    assert _issue_runs(store) == [("draft", "2026-w47", "ok")]
    draft = settings.site.drafts / "2026-w47.md"
    written = draft.read_text()
    assert "##" in written and store.issue("2026-w47") is None  # drafted, not published

    clock.now += timedelta(hours=3)  # restarted: nothing to make, the jobs come back as they were
    second = DigestScheduler(settings, sources, store, clock, lambda: embedder)
    second.start()
    assert second.caught_up.wait(120)
    assert {j.id: j.next_run_time for j in second.stored_jobs()}["weekly"] == weekly_next["weekly"]
    assert set(weekly_next) == {"weekly", "crawl"}
    second.shutdown()
    assert _issue_runs(store) == [("draft", "2026-w47", "ok")]
    assert draft.read_text() == written

    ops = Operations(settings, store, clock)
    again = jobs.make_issue(ops, sources, date(2026, 11, 16), lambda: embedder)
    assert again.report is None and again.made_before is not None
    forced = jobs.make_issue(ops, sources, date(2026, 11, 16), lambda: embedder, force=True)
    assert forced.report is not None
    assert _issue_runs(store) == [("draft", "2026-w47", "ok")] * 2
    store.close()


def test_two_schedulers_racing_on_one_database_make_one_issue(
    crawled: tuple[Settings, Store, Path],
) -> None:
    settings, store, config = crawled
    store.close()
    now = "2026-11-20T09:30:00+01:00"
    with feed_server() as server:
        publish = {**FRIDAY_9_BERLIN, "action": "publish"}
        write_config(config.parent, base_url(server), schedule=publish)
        racers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.race_scheduler", str(config), now],
                cwd=Path(__file__).resolve().parents[1],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "DIGEST_UNSUBSCRIBE_SECRET": "s" * 32},
            )
            for _ in range(2)
        ]
        results = [r.communicate(timeout=240) for r in racers]
    for racer, (_, err) in zip(racers, results, strict=True):
        assert racer.returncode == 0, err
    outcomes = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert sorted(o["made"] for o in outcomes) == [False, True], outcomes
    store = Store(settings.store.url)
    assert _issue_runs(store) == [("publish", "2026-w47", "ok")]
    assert [i.id for i in store.issues()] == ["2026-w47"]
    store.close()


def test_failed_scheduled_run_alerts_the_webhook(crawled: tuple[Settings, Store, Path]) -> None:
    settings, store, _ = crawled
    with webhook_receiver() as (url, received):
        settings = settings.model_copy(
            update={"alerts": settings.alerts.model_copy(update={"webhook": url})}
        )
        # Friday of week 49: nothing was crawled for that week, so the issue cannot be made.
        clock = Clock(datetime(2026, 12, 4, 9, 5, tzinfo=BERLIN))
        scheduler = DigestScheduler(settings, [], store, clock, WordHashEmbedder)
        scheduler.weekly()
        scheduler.weekly()  # a second failure is a second run, and a second alert
    assert [r["event"] for r in received] == ["run_failed", "run_failed"]
    assert "draft of 2026-w49" in received[0]["subject"]
    assert "no articles published in week 2026-w49" in received[0]["text"]
    assert _issue_runs(store) == [("draft", "2026-w49", "failed")] * 2
    store.close()


def test_source_failing_for_a_day_alerts_once_and_shows_in_status(
    crawled: tuple[Settings, Store, Path],
) -> None:
    settings, store, _ = crawled
    clock = Clock(datetime(2026, 11, 20, 6, tzinfo=UTC))
    with feed_server() as server, webhook_receiver() as (url, received):
        sources = [
            replace(s, url=f"{base_url(server)}/feeds/{s.url.rsplit('/feeds/', 1)[1]}")
            for s in load_sources(settings.sources)[:2]
        ]
        down = Source("Down Site", "feed", "http://127.0.0.1:9/feed.xml")
        settings = settings.model_copy(
            update={"alerts": settings.alerts.model_copy(update={"webhook": url})}
        )
        ops = Operations(settings, store, clock, unattended=True)
        policy = jobs.pipeline.fetch_policy(settings)
        for hours in (0, 12, 25, 26):
            clock.now = datetime(2026, 11, 20, 6, tzinfo=UTC) + timedelta(hours=hours)
            jobs.crawl(ops, [*sources, down], policy)
            jobs.crawl(ops, [down], policy)  # a crawl of only failing sources: no run alert
    assert [r["event"] for r in received] == ["source_failing"]
    assert "'Down Site' has failed since 2026-11-20 06:00" in received[0]["subject"]
    assert "refused" in received[0]["text"]

    console = Console(record=True, width=160)
    report = status.gather(settings, store, [s.name for s in sources], clock.now)
    status.render(report, console)
    text = console.export_text()
    assert "needs attention" in text
    assert "source 'Down Site' failing since Fri 20 Nov 07:00" in text  # shown in Berlin time
    for source in sources:
        assert source.name in text
    store.close()


def test_alert_by_email_reaches_an_smtp_server(crawled: tuple[Settings, Store, Path]) -> None:
    settings, store, _ = crawled
    received: list[object] = []

    class Keep(Message):
        def handle_message(self, message: object) -> None:
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = settings.model_copy(
            update={
                "alerts": settings.alerts.model_copy(update={"email": "editor@example.com"}),
                "email": settings.email.model_copy(
                    update={"smtp_host": "127.0.0.1", "smtp_port": port}
                ),
            }
        )
        clock = Clock(datetime(2026, 12, 4, 9, 5, tzinfo=BERLIN))
        DigestScheduler(settings, [], store, clock, WordHashEmbedder).weekly()
    finally:
        controller.stop()
    assert len(received) == 1
    message = received[0]
    assert message["To"] == "editor@example.com"  # type: ignore[index]
    assert "failed" in message["Subject"]  # type: ignore[index]
    store.close()


def test_crawl_job_fetches_the_due_sources_then_analyzes_the_week(tmp_path: Path) -> None:
    with feed_server() as server:
        config = write_config(tmp_path, base_url(server), first=3)
        text = (tmp_path / "sources.yaml").read_text()
        (tmp_path / "sources.yaml").write_text(  # due again right away; the others in an hour
            text.replace("name: OpenAI Blog", "name: OpenAI Blog\n  interval_minutes: 0.001")
        )
        settings = load_settings(config)
        store = Store(settings.store.url)
        clock = Clock(datetime(2026, 11, 20, 12, tzinfo=UTC))
        scheduler = DigestScheduler(
            settings, load_sources(settings.sources), store, clock, WordHashEmbedder
        )
        scheduler.crawl()
        scheduler.crawl()  # nothing new: no analysis
    runs = [(r.stage, r.period, r.status, r.sources) for r in reversed(RunLog(store).runs())]
    assert runs == [
        ("crawl", None, "ok", ("OpenAI Blog", "Anthropic News", "Google DeepMind Blog")),
        ("analyze", "2026-w47", "ok", ()),
        ("crawl", None, "ok", ("OpenAI Blog",)),
    ]
    assert RunLog(store).runs(1, stage="analyze")[0].counts["stories"] > 0
    store.close()
