"""The webhook ledger (one row per issue and webhook target), and subscribers' chosen topics.

Revision ID: 0003_delivery_webhooks
Revises: 0002_pubfaults_bounces
Create Date: 2026-12-02

A row of webhook_deliveries makes each target get an issue at most once. subscribers.topics
holds the topic slugs a subscriber chose on the preferences page ("" for every topic).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery_webhooks"
down_revision = "0002_pubfaults_bounces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("issue_id", sa.String(20), primary_key=True),
        sa.Column("target", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answer", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("topics", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("topics")
    op.drop_table("webhook_deliveries")
