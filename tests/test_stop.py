"""A clean stop: SIGTERM mid-crawl leaves whole sources only, and a restart completes the week."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import load_settings
from digest.crawl.sources import load_sources
from digest.store import Store
from tests.opskit import base_url, feed_server, write_config

pytestmark = pytest.mark.slow


def _digest(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digest.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "COLUMNS": "200",
            "DIGEST_UNSUBSCRIBE_SECRET": "s" * 32,
        },
    )


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the tables are not there yet
            return []


def _count(db: Path, table: str) -> int:
    rows = _query(db, f"select count(*) from {table}")
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigterm_mid_crawl_then_restart_makes_one_complete_issue(tmp_path: Path) -> None:
    db = tmp_path / "digest.db"
    with feed_server(delay=0.7) as server:
        # Four sources fetched one at a time: four units of work, the issue kept small.
        config = write_config(
            tmp_path,
            base_url(server),
            first=4,
            crawl={"concurrency": 1},
            schedule={"action": "publish"},
        )
        run = _digest("run", "--config", str(config), "--week", "2026-W47")
        # Stop once the first source is stored and the next is in flight.
        _wait_for(lambda: _count(db, "articles") > 0, "a stored batch")
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 130, out + err
        assert "stopped on request" in out

        (status, sources, counts), *others = _query(
            db, "select status, sources, counts from runs where stage = 'crawl'"
        )
        assert others == [] and status == "interrupted"
        done = set(json.loads(str(sources)))
        assert 0 < len(done) < 4
        stored = {s for (s,) in _query(db, "select distinct source from articles")}
        assert stored <= done, "a source of an unfinished batch was half-written"
        assert _count(db, "articles") == json.loads(str(counts))["new"]
        assert _count(db, "issues") == 0

        server.delay = 0.0  # type: ignore[attr-defined]
        run = _digest("run", "--config", str(config), "--week", "2026-W47")
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, out + err
        assert "Issue 2026-w47" in out

        again = _digest("run", "--config", str(config), "--week", "2026-W47")
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        assert "already made" in out

        reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
        settings = load_settings(config)
        pipeline.crawl(load_sources(settings.sources), reference, pipeline.fetch_policy(settings))
        complete = reference.count_articles()
        reference.close()

    assert _count(db, "articles") == complete
    assert _query(db, "select id from issues") == [("2026-w47",)]
    runs = _query(db, "select stage, status from runs order by id")
    assert runs == [
        ("crawl", "interrupted"),
        ("crawl", "ok"),
        ("publish", "ok"),
        ("crawl", "ok"),
    ]
    assert (tmp_path / "site" / "issues" / "2026-w47" / "index.html").is_file()
    assert not list(tmp_path.glob("site?*")), "a half-built site was left beside the real one"


def test_schedule_stops_cleanly_on_sigterm_and_resumes_the_crawl_on_start(tmp_path: Path) -> None:
    db = tmp_path / "digest.db"
    with feed_server(delay=0.5) as server:
        config = write_config(
            tmp_path,
            base_url(server),
            first=4,
            crawl={"concurrency": 1},
            # No weekly fire in the last 8 days whatever today is (Feb 29 on a Monday: 2044),
            # so the catch-up check has nothing to make and no model is loaded.
            schedule={"analyze_after_crawl": False, "weekly": "0 0 29 feb mon"},
            log={"format": "json"},
        )
        schedule = _digest("schedule", "--config", str(config))
        _wait_for(lambda: _count(db, "articles") > 0, "a stored source")
        schedule.send_signal(signal.SIGTERM)
        out, err = schedule.communicate(timeout=60)
        assert schedule.returncode == 0, out + err
        assert _query(db, "select stage, status from runs") == [("crawl", "interrupted")]
        jobs = {job for (job,) in _query(db, "select id from apscheduler_jobs")}
        assert jobs == {"crawl", "weekly"}
        logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert any(e.get("stage") == "crawl" and e.get("status") == "interrupted" for e in logged)

        # The interrupted crawl resumes at once, although its next regular run is 15 min away.
        schedule = _digest("schedule", "--config", str(config))
        _wait_for(lambda: ("crawl", "ok") in _query(db, "select stage, status from runs"), "crawl")
        schedule.send_signal(signal.SIGINT)
        out, err = schedule.communicate(timeout=60)
        assert schedule.returncode == 0, out + err
    stored = _query(db, "select source, count(*) from articles group by source")
    assert len(stored) == 4
