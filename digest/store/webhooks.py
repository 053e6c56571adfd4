"""The webhook ledger: one row per (issue, target), so each target is sent an issue at most once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from digest.store import schema

# Owed: not sent yet. 'deferred' (a 5xx, 429 or no connection) and 'rejected' (a 4xx: fix the
# target) were certainly not taken by the receiver, so the next run tries them again.
_OWED = ("pending", "deferred", "rejected")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class WebhookLedger:
    """Webhook deliveries in the store's database; every change is one atomic statement."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, issue_id: str, targets: Sequence[str]) -> list[str]:
        """The targets (of those given, in that order) still owed this issue; creates rows."""
        t = schema.webhook_deliveries
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        rows = [
            {"issue_id": issue_id, "target": name, "status": "pending", "attempts": 0,
             "answer": "", "updated_at": _now()}
            for name in targets
        ]  # fmt: skip
        with self.engine.begin() as conn:
            if rows:
                insert: Insert = dialect.insert(t).on_conflict_do_nothing()
                conn.execute(insert, rows)
            owed = set(
                conn.execute(
                    select(t.c.target).where(t.c.issue_id == issue_id, t.c.status.in_(_OWED))
                ).scalars()
            )
        return [name for name in targets if name in owed]

    def claim(self, issue_id: str, target: str) -> bool:
        """Owed -> sending; False when another run has taken it or it was sent."""
        t = schema.webhook_deliveries
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.issue_id == issue_id, t.c.target == target, t.c.status.in_(_OWED))
                .values(status="sending", attempts=t.c.attempts + 1, updated_at=_now())
            )
        return done.rowcount == 1

    def record(self, issue_id: str, target: str, status: str, answer: str) -> None:
        """The outcome of an in-flight delivery: sent, deferred or rejected."""
        t = schema.webhook_deliveries
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.issue_id == issue_id, t.c.target == target)
                .values(status=status, answer=answer[:500], updated_at=_now())
            )

    def interrupted(self, issue_id: str) -> list[str]:
        """Targets whose POST was in flight when an earlier run died: perhaps received."""
        t = schema.webhook_deliveries
        query = select(t.c.target).where(t.c.issue_id == issue_id, t.c.status == "sending")
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def requeue_interrupted(self, issue_id: str) -> int:
        """Put in-flight rows of a dead run back in the queue (a target may get them twice)."""
        t = schema.webhook_deliveries
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.issue_id == issue_id, t.c.status == "sending")
                .values(status="pending", updated_at=_now())
            )
        return max(done.rowcount, 0)

    def counts(self, issue_id: str) -> dict[str, int]:
        t = schema.webhook_deliveries
        query = (
            select(t.c.status, func.count()).where(t.c.issue_id == issue_id).group_by(t.c.status)
        )
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def statuses(self, issue_id: str) -> dict[str, tuple[str, int, str]]:
        """Per target: its status, tries so far and the receiver's last answer."""
        t = schema.webhook_deliveries
        query = select(t.c.target, t.c.status, t.c.attempts, t.c.answer).where(
            t.c.issue_id == issue_id
        )
        with self.engine.connect() as conn:
            return {r.target: (r.status, r.attempts, r.answer) for r in conn.execute(query)}
