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

llm_responses = Table(
    "llm_responses",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
