"""Subscribers remember a hard bounce: when the server refused the address, and its answer.

Revision ID: 0002_pubfaults_bounces
Revises: 0002_editorial_article_link
Create Date: 2026-12-02

A 5xx answer to RCPT sets a subscriber's status to 'bounced' (never sent to again); the time
and the server's answer are kept for `digest subscribers list`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_pubfaults_bounces"
down_revision = "0002_editorial_article_link"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("bounce", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("bounce")
        batch.drop_column("bounced_at")
