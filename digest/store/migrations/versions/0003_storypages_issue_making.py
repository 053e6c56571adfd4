"""Each issue keeps the record of the run that made it, for its "How this issue was made" page.

Revision ID: 0003_storypages_making
Revises: 0003_delivery_webhooks
Create Date: 2026-12-02

One row per issue: when it was made and, as JSON, what the run counted (the crawls that fed
it, the articles read, the stories formed, grounding, the writer's calls and cost).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_storypages_making"
down_revision = "0003_delivery_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_making",
        sa.Column("issue_id", sa.String(20), primary_key=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("issue_making")
