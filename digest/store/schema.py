"""The store's tables, as SQLAlchemy Core metadata shared by SQLite and PostgreSQL."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("source", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("author", Text, nullable=False, default=""),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Index("ix_articles_published_at", "published_at"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("published_in", String(20), nullable=True),
)

story_articles = Table(
    "story_articles",
    metadata,
    Column("article_id", String(32), ForeignKey("articles.id"), primary_key=True),
    Column("story_id", String(40), ForeignKey("stories.id"), nullable=False),
    Index("ix_story_articles_story", "story_id"),
)

issues = Table(
    "issues",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("week_start", DateTime(timezone=True), nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("built_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(320), nullable=False, unique=True),
    Column("name", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("unsubscribed_at", DateTime(timezone=True), nullable=True),
)

# One row per (issue, subscriber): pending, sending, sent, deferred, rejected, failed, skipped.
deliveries = Table(
    "deliveries",
    metadata,
    Column("issue_id", String(20), primary_key=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("answer", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
