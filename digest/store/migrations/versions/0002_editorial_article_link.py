"""Articles keep the link their source gave, beside the canonical URL that identifies them.

Revision ID: 0002_editorial_article_link
Revises: 0002_crawlfaults
Create Date: 2026-11-24

The canonical URL (https, bare host, no tracking) files an article once however it is
linked, but it can break the link: a reader is sent to `link`, the URL exactly as the source
gave it ("" when it is the canonical URL already, as for every article stored before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_editorial_article_link"
down_revision = "0002_crawlfaults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("link", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("link")
