"""Sign-ups from the site awaiting confirmation: a pending address becomes a subscriber only
when its confirmation link is used."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from digest.store import schema
from digest.store.mailing import ACTIVE, Mailing


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Signups:
    """Pending sign-ups, each with a random nonce that its signed confirmation link carries."""

    def __init__(self, engine: Engine, valid: timedelta) -> None:
        self.engine = engine
        self.valid = valid

    def request(self, address: str) -> str | None:
        """The nonce to confirm this address with, or None when it already receives issues.

        A pending address keeps its nonce (an earlier link still works) and its wait starts
        again; expired sign-ups are dropped on the way.
        """
        s, t = schema.subscribers, schema.signups
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.requested_at < now - self.valid))
            subscribed = conn.execute(
                select(s.c.id).where(s.c.address == address, s.c.status == ACTIVE)
            ).first()
            if subscribed is not None:
                return None
            pending = conn.execute(select(t.c.nonce).where(t.c.address == address)).scalar()
            if pending is not None:
                conn.execute(update(t).where(t.c.nonce == pending).values(requested_at=now))
                return str(pending)
        nonce = secrets.token_hex(16)
        try:
            with self.engine.begin() as conn:
                conn.execute(t.insert().values(nonce=nonce, address=address, requested_at=now))
        except IntegrityError:  # the same address signed up at the same moment
            with self.engine.connect() as conn:
                return str(conn.execute(select(t.c.nonce).where(t.c.address == address)).scalar())
        return nonce

    def address(self, nonce: str) -> str | None:
        """The address a pending, unexpired sign-up is for."""
        t = schema.signups
        with self.engine.connect() as conn:
            found = conn.execute(
                select(t.c.address).where(
                    t.c.nonce == nonce, t.c.requested_at >= _now() - self.valid
                )
            ).scalar()
        return str(found) if found is not None else None

    def confirm(self, nonce: str) -> str | None:
        """Make the sign-up's address an active subscriber (again, if it had left) and use
        the sign-up up; returns the address, or None when there is no such sign-up."""
        address = self.address(nonce)
        if address is None:
            return None
        Mailing(self.engine).add([("", address)], resubscribe=True)
        with self.engine.begin() as conn:
            conn.execute(delete(schema.signups).where(schema.signups.c.nonce == nonce))
        return address

    def pending(self) -> list[tuple[str, datetime]]:
        """Addresses awaiting confirmation, with when they asked, oldest first."""
        t = schema.signups
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.address, t.c.requested_at)
                .where(t.c.requested_at >= _now() - self.valid)
                .order_by(t.c.requested_at)
            ).all()
        return [(r.address, _utc(r.requested_at)) for r in rows]
