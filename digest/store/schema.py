"""The store's tables, as SQLAlchemy Core metadata shared by SQLite and PostgreSQL."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from digest.store.vector import Vector

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
    # Added by the production crawler; server defaults let them be added to an older store.
    Column("guid", Text, nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default="[]"),  # JSON list
    Column("pdf_url", Text, nullable=False, server_default=""),
    Column("discussion_url", Text, nullable=False, server_default=""),
    Column("score", Integer, nullable=False, server_default="0"),
    Column("comments", Integer, nullable=False, server_default="0"),
    Column("text_status", String(10), nullable=False, server_default=""),
    Column("full_text", Text, nullable=False, server_default=""),
    # The date the source gave, when it was not believable and published_at is the fetch time.
    Column("stated_published_at", DateTime(timezone=True), nullable=True),
    # The link as the source gave it when it differs from `url` (canonical, for identity).
    Column("link", Text, nullable=False, server_default=""),
    Index("ix_articles_published_at", "published_at"),
    Index("ix_articles_source_published", "source", "published_at"),
)

# Every HN, Reddit or Lobsters thread seen about an article; the busiest is on the article.
discussions = Table(
    "discussions",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", String(32), ForeignKey("articles.id"), nullable=False),
    Column("source", String(200), nullable=False),
    Column("score", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_discussions_article", "article_id"),
)

# Other URLs an article was listed under (GUID churn, edited slugs), so they add nothing.
article_aliases = Table(
    "article_aliases",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", String(32), ForeignKey("articles.id"), nullable=False),
)

# Per source: conditional-GET validators, health and when it may be fetched again.
source_state = Table(
    "source_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("validated_url", Text, nullable=False, server_default=""),
    Column("etag", Text, nullable=False, server_default=""),
    Column("last_modified", Text, nullable=False, server_default=""),
    Column("last_attempt", DateTime(timezone=True), nullable=True),
    Column("last_success", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_attempt", DateTime(timezone=True), nullable=True),
    Column("last_new", Integer, nullable=False, server_default="0"),
    Column("validated_at", DateTime(timezone=True), nullable=True),
    Column("last_warning", Text, nullable=False, server_default=""),
)

# robots.txt per scheme and host: the HTTP status class it answered with and its text.
robots = Table(
    "robots",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("vector", Vector, nullable=False),
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

# The record of the run that made each issue (JSON), shown on its "How this issue was made" page.
issue_making = Table(
    "issue_making",
    metadata,
    Column("issue_id", String(20), primary_key=True),
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
)

# Each week's themes as analyzed, so the next week can tell new themes from continuing ones.
theme_history = Table(
    "theme_history",
    metadata,
    Column("week", String(20), primary_key=True),
    Column("theme_id", String(80), primary_key=True),
    Column("name", Text, nullable=False),
    Column("stories", Integer, nullable=False),
    Column("centroid", Vector, nullable=False),
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
    # status 'bounced': the server refused the address for good (a 5xx to RCPT), and why
    Column("bounced_at", DateTime(timezone=True), nullable=True),
    Column("bounce", Text, nullable=False, server_default=""),
    # The topic slugs the subscriber chose, comma-separated; "" for every topic.
    Column("topics", Text, nullable=False, server_default=""),
)

# Sign-ups from the site awaiting their confirmation link; confirmed ones become subscribers.
signups = Table(
    "signups",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("address", String(320), nullable=False, unique=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Index("ix_signups_requested_at", "requested_at"),
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

# One row per (issue, webhook target): pending, sending, sent, deferred or rejected.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("issue_id", String(20), primary_key=True),
    Column("target", String(40), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("answer", Text, nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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

# Operations: one row per stage run (crawl, analyze, draft, publish), for `digest status`
# and for deciding whether a week's issue was already made.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stage", String(20), nullable=False),
    Column("period", String(20), nullable=True),
    Column("owner", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("status", String(12), nullable=False),
    Column("counts", Text, nullable=False, default="{}"),
    Column("errors", Text, nullable=False, default="{}"),
    Column("sources", Text, nullable=False, default="[]"),
    Index("ix_runs_stage_started", "stage", "started_at"),
)

# Named locks with an owner and an expiry: one pipeline run at a time per database.
locks = Table(
    "locks",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Alerts already sent, so a failing source is reported once per failing spell.
alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)
