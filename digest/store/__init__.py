"""The store: articles, embedding cache, stories and published issues, on SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, Insert, create_engine, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from digest.errors import StoreError, StoreMissingError
from digest.models import Article, Issue
from digest.store import schema
from digest.store.crawled import CrawlStore, tags_from_json
from digest.store.serialize import issue_from_json, issue_to_json
from digest.store.upgrade import upgrade

__all__ = ["Store", "StoreMissingError"]

_IN_LIST = 10_000


def _utc(value: datetime) -> datetime:
    """Aware UTC in and out: SQLite keeps no zone, so it is attached on the way out."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _article(row: object) -> Article:
    r = row._mapping  # type: ignore[attr-defined]
    return Article(
        id=r["id"],
        url=r["url"],
        title=r["title"],
        summary=r["summary"],
        source=r["source"],
        published_at=_utc(r["published_at"]),
        content_hash=r["content_hash"],
        author=r["author"],
        guid=r["guid"],
        tags=tags_from_json(r["tags"]),
        pdf_url=r["pdf_url"],
        discussion_url=r["discussion_url"],
        score=r["score"],
        comments=r["comments"],
        text_status=r["text_status"],
        full_text=r["full_text"],
        stated_published_at=_utc(stated) if (stated := r["stated_published_at"]) else None,
        link=r["link"],
    )


class Store(CrawlStore):
    """One database, SQLite by default, PostgreSQL by URL."""

    def __init__(self, url: str, create: bool = True) -> None:
        """Open the store at url; one that does not exist yet is made only when create is set."""
        shown = _without_password(url)
        sqlite_file = _sqlite_file(url)
        if sqlite_file is not None:
            if not create and not sqlite_file.is_file():
                raise StoreMissingError(_missing(f"{shown} (the file {sqlite_file.resolve()})"))
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(url)
            if not create and not _has_digest_tables(self.engine):
                self.engine.dispose()
                raise StoreMissingError(_missing(shown))
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            # (revision before, revision now): `digest migrate` reports it.
            self.migrated: tuple[str | None, str] = upgrade(self.engine)
        except ImportError as exc:
            raise StoreError(
                f"the store at {shown!r} needs a database driver that is not installed ({exc}); "
                "for PostgreSQL run: pip install 'digest[postgres]'"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {shown!r} ({exc}); check [store] url"
            ) from exc

    def close(self) -> None:
        self.engine.dispose()

    def _insert_ignoring_duplicates(self, table: object) -> Insert:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement: Insert = dialect.insert(table).on_conflict_do_nothing()
        return statement

    def count_articles(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.articles)).scalar_one())

    def newest_published(self) -> datetime | None:
        """When the newest stored article was published."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(schema.articles.c.published_at))).scalar()
        return _utc(newest) if newest is not None else None

    def articles_between(self, start: date, end: date) -> list[Article]:
        """Articles published from start (inclusive) to end (exclusive), oldest first."""
        t = schema.articles
        lo = datetime.combine(start, time(), UTC)
        hi = datetime.combine(end, time(), UTC)
        query = (
            select(t)
            .where(t.c.published_at >= lo, t.c.published_at < hi)
            .order_by(t.c.published_at, t.c.id)
        )
        with self.engine.connect() as conn:
            return [_article(r) for r in conn.execute(query)]

    def articles_by_id(self, ids: Sequence[str]) -> list[Article]:
        t = schema.articles
        with self.engine.connect() as conn:
            return [
                _article(r)
                for part in _chunks(ids)
                for r in conn.execute(select(t).where(t.c.id.in_(part)))
            ]

    def vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached embeddings for these content hashes."""
        t = schema.embeddings
        query = select(t.c.content_hash, t.c.vector).where(t.c.model == model)
        with self.engine.connect() as conn:
            return {
                h: v
                for part in _chunks(hashes)
                for h, v in conn.execute(query.where(t.c.content_hash.in_(part)))
            }

    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [{"model": model, "content_hash": h, "vector": v} for h, v in vectors.items()]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(self._insert_ignoring_duplicates(schema.embeddings), rows)

    def story_members(self, since: datetime) -> dict[str, list[str]]:
        """Story id -> article ids, for stories with an article published since `since`."""
        sa, a = schema.story_articles, schema.articles
        recent = select(sa.c.story_id).join(a, a.c.id == sa.c.article_id)
        recent = recent.where(a.c.published_at >= _utc(since)).distinct()
        query = (
            select(sa.c.story_id, sa.c.article_id)
            .where(sa.c.story_id.in_(recent))
            .order_by(sa.c.story_id, sa.c.article_id)
        )
        members: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for story_id, article_id in conn.execute(query):
                members.setdefault(story_id, []).append(article_id)
        return members

    def stories_articles(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        """Story id -> the ids of all its articles, for these stories, in any week."""
        sa = schema.story_articles
        query = select(sa.c.story_id, sa.c.article_id).order_by(sa.c.story_id, sa.c.article_id)
        members: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(story_ids):
                for story_id, article_id in conn.execute(query.where(sa.c.story_id.in_(part))):
                    members.setdefault(story_id, []).append(article_id)
        return members

    def story_of(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id -> story id, for the articles already assigned."""
        sa = schema.story_articles
        query = select(sa.c.article_id, sa.c.story_id)
        with self.engine.connect() as conn:
            return {
                a: s
                for part in _chunks(article_ids)
                for a, s in conn.execute(query.where(sa.c.article_id.in_(part)))
            }

    def assign_stories(self, assignments: dict[str, str], first_seen: dict[str, datetime]) -> None:
        """Record new stories and article memberships; existing memberships are kept."""
        story_rows = [{"id": s, "first_seen": _utc(t)} for s, t in first_seen.items()]
        member_rows = [{"article_id": a, "story_id": s} for a, s in assignments.items()]
        with self.engine.begin() as conn:
            if story_rows:
                conn.execute(self._insert_ignoring_duplicates(schema.stories), story_rows)
            if member_rows:
                conn.execute(self._insert_ignoring_duplicates(schema.story_articles), member_rows)

    def published_in(self, story_ids: Sequence[str]) -> dict[str, str]:
        """Story id -> the issue that first published it, for stories already published."""
        t = schema.stories
        query = select(t.c.id, t.c.published_in).where(t.c.published_in.is_not(None))
        with self.engine.connect() as conn:
            return {
                s: i
                for part in _chunks(story_ids)
                for s, i in conn.execute(query.where(t.c.id.in_(part)))
            }

    def published_stories(self) -> list[str]:
        """The ids of every story an issue has published, oldest first: their pages stay."""
        t = schema.stories
        query = select(t.c.id).where(t.c.published_in.is_not(None)).order_by(t.c.first_seen, t.c.id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def save_week_themes(
        self, week: str, themes: Sequence[tuple[str, str, int, np.ndarray]]
    ) -> None:
        """Replace the week's kept themes: (theme id, name, story count, unit centroid)."""
        t = schema.theme_history
        rows = [
            {
                "week": week,
                "theme_id": i,
                "name": n,
                "stories": c,
                "centroid": v,
            }
            for i, n, c, v in themes
        ]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.week == week))
            if rows:
                conn.execute(t.insert(), rows)

    def week_themes(self, week: str) -> list[tuple[str, str, int, np.ndarray]]:
        """The themes kept for `week` by save_week_themes (none when it was never analyzed)."""
        t = schema.theme_history
        query = select(t.c.theme_id, t.c.name, t.c.stories, t.c.centroid).where(t.c.week == week)
        with self.engine.connect() as conn:
            return [(i, n, int(c), v) for i, n, c, v in conn.execute(query.order_by(t.c.theme_id))]

    def save_issue(self, issue: Issue) -> Issue:
        """Store (or replace) the issue and mark its stories as published in it.

        Returns the issue as stored: its publication date is the first one it was stored
        with, kept across rebuilds (now, when it is stored for the first time).
        """
        t = schema.issues
        previous = self.issue(issue.id)
        first = previous.published_at if previous is not None else None
        published = first or issue.published_at or datetime.now(UTC).replace(microsecond=0)
        issue = replace(issue, published_at=published)
        row = {
            "id": issue.id,
            "week_start": datetime.combine(issue.week_start, time(), UTC),
            "built_at": _utc(issue.built_at),
            "body": issue_to_json(issue),
        }
        # Every story the issue tells from is published in it (a quick hit's, a paper's too, and
        # each piece of one told as one): a week after, it comes back as an update, not as news.
        told = [a.id for sec in issue.sections for s in sec.theme.stories for a in s.articles]
        notes = (*issue.quick_hits, *issue.research, *issue.watch)
        told += [c.article_id for n in notes for c in n.citations]
        story_ids = [s.id for sec in issue.sections for s in sec.theme.stories]
        story_ids += self.story_of(told).values()
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.id == issue.id))
            conn.execute(t.insert(), [row])
            _mark_published(conn, story_ids, issue.id)
        return issue

    def issue(self, issue_id: str) -> Issue | None:
        t = schema.issues
        with self.engine.connect() as conn:
            body = conn.execute(select(t.c.body).where(t.c.id == issue_id)).scalar()
        return issue_from_json(body) if body is not None else None

    def issues(self) -> list[Issue]:
        """Every stored issue, newest week first."""
        t = schema.issues
        with self.engine.connect() as conn:
            bodies = conn.execute(select(t.c.body).order_by(t.c.week_start.desc())).scalars()
            return [issue_from_json(b) for b in bodies]

    def save_making(self, issue_id: str, made_at: datetime, body: str) -> None:
        """Keep (or replace) the record, as JSON, of the run that made the issue."""
        t = schema.issue_making
        row = {"issue_id": issue_id, "made_at": _utc(made_at), "body": body}
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.issue_id == issue_id))
            conn.execute(t.insert(), [row])

    def makings(self) -> dict[str, tuple[datetime, str]]:
        """Issue id -> (when it was made, the JSON record of the run that made it)."""
        t = schema.issue_making
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.issue_id, t.c.made_at, t.c.body))
            return {i: (_utc(m), b) for i, m, b in rows}

    def llm_response(self, key: str) -> tuple[str, int, int] | None:
        """A cached model reply (text, input tokens, output tokens) for this prompt key."""
        t = schema.llm_responses
        query = select(t.c.text, t.c.input_tokens, t.c.output_tokens).where(t.c.key == key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row[0], row[1], row[2]) if row is not None else None

    def save_llm_response(
        self, key: str, model: str, text: str, input_tokens: int, output_tokens: int
    ) -> None:
        row = {
            "key": key,
            "model": model,
            "text": text,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "created_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            conn.execute(self._insert_ignoring_duplicates(schema.llm_responses), [row])


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """Slices small enough for one IN list: PostgreSQL takes at most 65,535 parameters."""
    for start in range(0, len(values), _IN_LIST):
        yield values[start : start + _IN_LIST]


def _mark_published(conn: Connection, story_ids: Sequence[str], issue_id: str) -> None:
    t = schema.stories
    if story_ids:
        conn.execute(
            update(t)
            .where(t.c.id.in_(story_ids), t.c.published_in.is_(None))
            .values(published_in=issue_id)
        )


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another kind of store."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def _has_digest_tables(engine: Engine) -> bool:
    """True when the database holds a digest store (of any schema revision)."""
    return bool(set(inspect(engine).get_table_names()) & {"alembic_version", "articles"})


def _missing(shown: str) -> str:
    return (
        f"no digest store at {shown}; run `digest init` (with the same --config) to create "
        "it, or set store.url in digest.toml to the store you meant"
    )


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # In WAL mode NORMAL syncs at checkpoints, not on every commit: a power cut may lose the
    # last commits but never corrupts the file, and a crawl stores each source in its own.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
