"""Subscribers, the send ledger (one row per issue and subscriber) and issue drafts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from digest.models import Delivery, Issue
from digest.store import schema
from digest.store.serialize import issue_from_json, issue_to_json

ACTIVE, UNSUBSCRIBED, BOUNCED = "active", "unsubscribed", "bounced"
_OWED = ("pending", "deferred")


@dataclass(frozen=True)
class Subscriber:
    id: int
    address: str
    name: str
    status: str
    added_at: datetime
    bounced_at: datetime | None = None
    bounce: str = ""  # the server's answer that refused the address
    topics: tuple[str, ...] = ()  # the topic slugs chosen; () for every topic


@dataclass(frozen=True)
class AddReport:
    """What adding a batch of addresses did."""

    added: tuple[str, ...]
    already: tuple[str, ...]
    left: tuple[str, ...]  # unsubscribed earlier and not re-added


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Mailing:
    """Subscribers, deliveries and drafts in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert_ignoring_duplicates(self, table: object) -> Insert:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement: Insert = dialect.insert(table).on_conflict_do_nothing()
        return statement

    # subscribers

    def add(self, entries: Iterable[tuple[str, str]], resubscribe: bool = False) -> AddReport:
        """Add (name, address) pairs; one who unsubscribed comes back only with resubscribe."""
        t = schema.subscribers
        added, already, left = [], [], []
        with self.engine.begin() as conn:
            for name, address in entries:
                row = conn.execute(
                    select(t.c.id, t.c.status).where(t.c.address == address.lower())
                ).first()
                if row is None:
                    conn.execute(
                        t.insert().values(
                            address=address.lower(), name=name, status=ACTIVE, added_at=_now()
                        )
                    )
                    added.append(address)
                elif row.status == ACTIVE:
                    already.append(address)
                elif resubscribe:
                    conn.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(status=ACTIVE, unsubscribed_at=None, bounced_at=None, bounce="")
                    )
                    added.append(address)
                else:
                    left.append(address)
        return AddReport(tuple(added), tuple(already), tuple(left))

    def remove(self, address: str) -> bool:
        """Unsubscribe by address; the row stays so an import never adds them back."""
        t = schema.subscribers
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.address == address.lower(), t.c.status == ACTIVE)
                .values(status=UNSUBSCRIBED, unsubscribed_at=_now())
            )
        return done.rowcount == 1

    def unsubscribe(self, subscriber_id: int) -> None:
        t = schema.subscribers
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == subscriber_id, t.c.status == ACTIVE)
                .values(status=UNSUBSCRIBED, unsubscribed_at=_now())
            )

    def suppress(self, subscriber_id: int, reason: str) -> None:
        """A hard bounce: the address is never sent to again (until `subscribers add` it)."""
        t = schema.subscribers
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == subscriber_id, t.c.status == ACTIVE)
                .values(status=BOUNCED, bounced_at=_now(), bounce=reason[:500])
            )

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        t = schema.subscribers
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == subscriber_id)).first()
        return _subscriber(row) if row is not None else None

    def subscribers(self) -> list[Subscriber]:
        t = schema.subscribers
        with self.engine.connect() as conn:
            return [_subscriber(r) for r in conn.execute(select(t).order_by(t.c.id))]

    def topics(self, subscriber_id: int) -> tuple[str, ...]:
        """The topic slugs the subscriber chose; () means every topic."""
        t = schema.subscribers
        with self.engine.connect() as conn:
            stored = conn.execute(select(t.c.topics).where(t.c.id == subscriber_id)).scalar()
        return _topics(stored)

    def choose_topics(self, subscriber_id: int, slugs: Iterable[str]) -> None:
        """Keep the subscriber's choice of topics (none chosen: every topic)."""
        t = schema.subscribers
        chosen = ",".join(sorted(set(slugs)))
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == subscriber_id).values(topics=chosen))

    # the send ledger

    def due(self, issue_id: str) -> list[Delivery]:
        """Active subscribers owed this issue, oldest subscriber first; creates their rows."""
        s, d = schema.subscribers, schema.deliveries
        with self.engine.begin() as conn:
            active = conn.execute(select(s.c.id).where(s.c.status == ACTIVE)).scalars().all()
            rows = [
                {"issue_id": issue_id, "subscriber_id": i, "status": "pending", "attempts": 0,
                 "answer": "", "updated_at": _now()}
                for i in active
            ]  # fmt: skip
            if rows:
                conn.execute(self._insert_ignoring_duplicates(d), rows)
            query = (
                select(s.c.id, s.c.address, s.c.name, d.c.attempts)
                .join(d, d.c.subscriber_id == s.c.id)
                .where(d.c.issue_id == issue_id, d.c.status.in_(_OWED), s.c.status == ACTIVE)
                .order_by(s.c.id)
            )
            return [Delivery(r.id, r.address, r.name, r.attempts) for r in conn.execute(query)]

    def claim(self, issue_id: str, subscriber_id: int) -> bool:
        """Owed -> sending, only while the subscriber is active: one atomic statement."""
        s, d = schema.subscribers, schema.deliveries
        still_active = select(s.c.id).where(s.c.id == subscriber_id, s.c.status == ACTIVE)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(d)
                .where(
                    d.c.issue_id == issue_id,
                    d.c.subscriber_id == subscriber_id,
                    d.c.status.in_(_OWED),
                    d.c.subscriber_id.in_(still_active),
                )
                .values(status="sending", attempts=d.c.attempts + 1, updated_at=_now())
            )
            if done.rowcount == 1:
                return True
            conn.execute(
                update(d)
                .where(
                    d.c.issue_id == issue_id,
                    d.c.subscriber_id == subscriber_id,
                    d.c.status.in_(_OWED),
                )
                .values(status="skipped", answer="unsubscribed", updated_at=_now())
            )
        return False

    def release(self, issue_id: str, subscriber_id: int) -> None:
        d = schema.deliveries
        with self.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.issue_id == issue_id, d.c.subscriber_id == subscriber_id)
                .values(status="pending", attempts=d.c.attempts - 1, updated_at=_now())
            )

    def record(self, issue_id: str, subscriber_id: int, status: str, answer: str) -> None:
        d = schema.deliveries
        with self.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.issue_id == issue_id, d.c.subscriber_id == subscriber_id)
                .values(status=status, answer=answer[:500], updated_at=_now())
            )

    def interrupted(self, issue_id: str) -> list[str]:
        """Addresses whose message was in flight when an earlier send died."""
        s, d = schema.subscribers, schema.deliveries
        query = (
            select(s.c.address)
            .join(d, d.c.subscriber_id == s.c.id)
            .where(d.c.issue_id == issue_id, d.c.status == "sending")
            .order_by(s.c.id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def requeue_interrupted(self, issue_id: str) -> int:
        """Put in-flight rows of a dead run back in the queue (may send those twice)."""
        d = schema.deliveries
        with self.engine.begin() as conn:
            done = conn.execute(
                update(d)
                .where(d.c.issue_id == issue_id, d.c.status == "sending")
                .values(status="pending", updated_at=_now())
            )
        return max(done.rowcount, 0)

    def counts(self, issue_id: str) -> dict[str, int]:
        d = schema.deliveries
        query = (
            select(d.c.status, func.count()).where(d.c.issue_id == issue_id).group_by(d.c.status)
        )
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    # drafts

    def save_draft(self, issue: Issue) -> None:
        t = schema.drafts
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.id == issue.id))
            conn.execute(
                t.insert().values(
                    id=issue.id, built_at=_utc(issue.built_at), body=issue_to_json(issue)
                )
            )

    def draft(self, issue_id: str | None = None) -> Issue | None:
        """The draft of that issue, or the newest draft."""
        t = schema.drafts
        query = select(t.c.body)
        query = query.where(t.c.id == issue_id) if issue_id else query.order_by(t.c.id.desc())
        with self.engine.connect() as conn:
            body = conn.execute(query.limit(1)).scalar()
        return issue_from_json(body) if body is not None else None


def _subscriber(row: object) -> Subscriber:
    r = row._mapping  # type: ignore[attr-defined]
    bounced = r["bounced_at"]
    return Subscriber(
        r["id"],
        r["address"],
        r["name"],
        r["status"],
        _utc(r["added_at"]),
        _utc(bounced) if bounced is not None else None,
        r["bounce"] or "",
        _topics(r["topics"]),
    )


def _topics(stored: str | None) -> tuple[str, ...]:
    return tuple(t for t in (stored or "").split(",") if t)
