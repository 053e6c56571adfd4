"""Sign-ups from the site's subscribe form, waiting for their confirmation link.

Revision ID: 0002_serve
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_serve"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signups",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("address", sa.String(320), nullable=False, unique=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signups_requested_at", "signups", ["requested_at"])


def downgrade() -> None:
    op.drop_index("ix_signups_requested_at", table_name="signups")
    op.drop_table("signups")
