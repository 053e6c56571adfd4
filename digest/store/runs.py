"""The operations ledger in the store: runs of each stage, the pipeline lock and sent alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from digest.store import Store, schema

__all__ = ["LockHolder", "Run", "RunLog"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Run:
    """One run of one stage: when, by whom, how it ended, what it counted and what went wrong."""

    id: int
    stage: str
    period: str | None
    owner: str
    started_at: datetime
    ended_at: datetime | None
    status: str  # running, ok, failed, interrupted
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # subject (a source, or "run") -> why
    sources: tuple[str, ...] = ()  # the sources a crawl run tried


@dataclass(frozen=True)
class LockHolder:
    owner: str
    expires_at: datetime


def _run(row: Row[tuple[object, ...]]) -> Run:
    r = row._mapping
    ended = r["ended_at"]
    return Run(
        id=r["id"],
        stage=r["stage"],
        period=r["period"],
        owner=r["owner"],
        started_at=_utc(r["started_at"]),
        ended_at=_utc(ended) if ended is not None else None,
        status=r["status"],
        counts=json.loads(r["counts"]),
        errors=json.loads(r["errors"]),
        sources=tuple(json.loads(r["sources"])),
    )


class RunLog:
    """Runs, locks and alerts kept in the same database as the articles (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(table)
        return postgresql.insert(table)

    # Runs

    def start_run(self, stage: str, owner: str, now: datetime, period: str | None = None) -> int:
        row = {
            "stage": stage,
            "period": period,
            "owner": owner,
            "started_at": _utc(now),
            "status": "running",
            "counts": "{}",
            "errors": "{}",
            "sources": "[]",
        }
        with self.engine.begin() as conn:
            key = conn.execute(schema.runs.insert().values(row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_run(
        self,
        run_id: int,
        status: str,
        now: datetime,
        counts: dict[str, int] | None = None,
        errors: dict[str, str] | None = None,
        sources: tuple[str, ...] = (),
    ) -> None:
        values = {
            "status": status,
            "ended_at": _utc(now),
            "counts": json.dumps(counts or {}),
            "errors": json.dumps(errors or {}),
            "sources": json.dumps(list(sources)),
        }
        with self.engine.begin() as conn:
            conn.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(values))

    def runs(self, limit: int = 10, stage: str | None = None) -> list[Run]:
        """The newest runs first."""
        t = schema.runs
        query = select(t).order_by(t.c.started_at.desc(), t.c.id.desc()).limit(limit)
        if stage is not None:
            query = query.where(t.c.stage == stage)
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(query)]

    def runs_since(self, stage: str, since: datetime) -> list[Run]:
        """Runs of one stage started since `since`, oldest first."""
        t = schema.runs
        query = (
            select(t)
            .where(t.c.stage == stage, t.c.started_at >= _utc(since))
            .order_by(t.c.started_at, t.c.id)
        )
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(query)]

    def finished_run(self, period: str, stages: tuple[str, ...]) -> Run | None:
        """The first successful run of one of `stages` for this period, if any."""
        t = schema.runs
        query = (
            select(t)
            .where(t.c.period == period, t.c.stage.in_(stages), t.c.status == "ok")
            .order_by(t.c.started_at, t.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _run(row) if row is not None else None

    def close_unfinished_runs(self, now: datetime) -> int:
        """Mark runs left 'running' by a process that died as interrupted (call with the lock)."""
        t = schema.runs
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t)
                .where(t.c.status == "running")
                .values(
                    status="interrupted",
                    ended_at=_utc(now),
                    errors=json.dumps({"run": "the process stopped before the run finished"}),
                )
            )
        return max(result.rowcount, 0)

    def interrupt_runs_of(self, owner: str, now: datetime, why: str) -> int:
        """Mark the runs a dead process left 'running' as interrupted, saying why."""
        t = schema.runs
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t)
                .where(t.c.status == "running", t.c.owner == owner)
                .values(status="interrupted", ended_at=_utc(now), errors=json.dumps({"run": why}))
            )
        return max(result.rowcount, 0)

    def new_articles_by_source(self, since: datetime) -> dict[str, int]:
        """Articles first fetched since `since`, per source."""
        a = schema.articles
        query = (
            select(a.c.source, func.count())
            .where(a.c.fetched_at >= _utc(since))
            .group_by(a.c.source)
        )
        with self.engine.connect() as conn:
            return {source: int(n) for source, n in conn.execute(query)}

    # The lock

    def take_lock(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take (or extend) the lock when it is free, expired or already ours, in one statement."""
        t = schema.locks
        now, expires = _utc(now), _utc(now + ttl)
        statement = (
            self._insert(t)
            .values(name=name, owner=owner, expires_at=expires)
            .on_conflict_do_update(
                index_elements=[t.c.name],
                set_={"owner": owner, "expires_at": expires},
                where=(t.c.expires_at < now) | (t.c.owner == owner),
            )
        )
        with self.engine.begin() as conn:
            conn.execute(statement)
            holder = conn.execute(select(t.c.owner).where(t.c.name == name)).scalar()
        return bool(holder == owner)

    def take_over_lock(
        self, name: str, gone: str, owner: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Take the lock from `gone` (a holder known to be dead); False if it changed hands."""
        t = schema.locks
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.name == name, t.c.owner == gone)
                .values(owner=owner, expires_at=_utc(now + ttl))
            )
        return done.rowcount == 1

    def release_lock(self, name: str, owner: str) -> None:
        t = schema.locks
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.name == name, t.c.owner == owner))

    def lock_holder(self, name: str, now: datetime) -> LockHolder | None:
        """Who holds the lock now (an expired lock is held by no one)."""
        t = schema.locks
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.owner, t.c.expires_at).where(t.c.name == name)).first()
        if row is None or _utc(row.expires_at) < _utc(now):
            return None
        return LockHolder(row.owner, _utc(row.expires_at))

    # Alerts

    def claim_alert(self, key: str, now: datetime) -> bool:
        """True the first time `key` is claimed: that caller sends the alert, nobody else."""
        statement = (
            self._insert(schema.alerts_sent)
            .values(key=key[:300], sent_at=_utc(now))
            .on_conflict_do_nothing()
            .returning(schema.alerts_sent.c.key)  # an INSERT's rowcount is -1 on PostgreSQL
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).first() is not None

    def forget_alert(self, key: str) -> None:
        """Let `key` be sent again (its delivery failed)."""
        with self.engine.begin() as conn:
            conn.execute(delete(schema.alerts_sent).where(schema.alerts_sent.c.key == key[:300]))
