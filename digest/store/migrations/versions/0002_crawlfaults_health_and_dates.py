"""Crawl faults: validators' age and salvage warnings per source, and implausible dates kept.

Revision ID: 0002_crawlfaults
Revises: 0002_serve
Create Date: 2026-12-02

source_state.validated_at: when the source last sent its whole document, so that validators
older than a week are not sent (a server that answers 304 forever is read in full weekly).
source_state.last_warning: what the last successful crawl salvaged from a faulty document.
articles.stated_published_at: the date a source gave when it was implausible (before 1991 or
in the future) and the fetch time was used instead.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, Text

revision = "0002_crawlfaults"
down_revision = "0002_serve"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as table:
        table.add_column(Column("validated_at", DateTime(timezone=True), nullable=True))
        table.add_column(Column("last_warning", Text, nullable=False, server_default=""))
    with op.batch_alter_table("articles") as table:
        table.add_column(Column("stated_published_at", DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as table:
        table.drop_column("stated_published_at")
    with op.batch_alter_table("source_state") as table:
        table.drop_column("last_warning")
        table.drop_column("validated_at")
