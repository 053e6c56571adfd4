"""Bring a store's schema to the newest Alembic revision, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = ["current_revision", "head_revision", "upgrade"]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "digest.store:migrations")
    return config


@cache
def head_revision() -> str:
    """The newest revision digest ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at (None: new, or made before digest used Alembic)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the store to the newest revision in one transaction; returns (from, to).

    A store made before Alembic has no revision: the initial revision creates the tables it
    lacks and adds the columns they lack, so it upgrades like an empty one.
    """
    before = current_revision(engine)
    if before != head_revision():
        config = _config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return before, head_revision()
