"""The webhook ledger: one row per (issue, webhook target), so each target gets an issue once.

Revision ID: 0003_delivery_webhooks
Revises: 0002_pubfaults_bounces
Create Date: 2026-12-02
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


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
