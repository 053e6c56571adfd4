"""What the crawler stores: articles without duplicates, discussions, source health, robots."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Insert, select, update
from sqlalchemy.engine import Connection

from digest.models import Article, SourceHealth
from digest.store import schema

_CHURN_WINDOW = timedelta(days=2)
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_HEALTH_FIELDS = tuple(f.name for f in fields(SourceHealth))  # all flat: no deep copies needed


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def tags_from_json(text: str) -> tuple[str, ...]:
    """The tags column back as a tuple."""
    value = json.loads(text or "[]")
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _row(a: Article, fetched_at: datetime) -> dict[str, Any]:
    # Not asdict: it deep-copies every field, which was a quarter of the time a crawl stored.
    row = {name: getattr(a, name) for name in _ARTICLE_FIELDS}
    row.update(
        published_at=_utc(a.published_at),
        stated_published_at=_utc(a.stated_published_at) if a.stated_published_at else None,
        fetched_at=_utc(fetched_at),
        tags=json.dumps(list(a.tags), ensure_ascii=False),
    )
    return row


class CrawlStore:
    """The crawler's half of the Store (mixed into it)."""

    engine: Engine

    def _insert_ignoring_duplicates(self, table: object) -> Insert:
        raise NotImplementedError

    def add_articles(self, articles: Iterable[Article], fetched_at: datetime) -> int:
        """Store articles not held yet (by id or URL); returns how many were new."""
        rows = [
            {
                "id": a.id,
                "url": a.url,
                "source": a.source,
                "title": a.title,
                "summary": a.summary,
                "author": a.author,
                "published_at": _utc(a.published_at),
                "fetched_at": _utc(fetched_at),
                "content_hash": a.content_hash,
            }
            for a in articles
        ]
        if not rows:
            return 0
        # RETURNING counts the rows inserted on both databases (an executemany's rowcount
        # is not reliable on PostgreSQL).
        statement = self._insert_ignoring_duplicates(schema.articles)
        with self.engine.begin() as conn:
            return len(conn.execute(statement.returning(schema.articles.c.id), rows).all())

    def add_crawled(self, articles: Sequence[Article], fetched_at: datetime) -> int:
        """Store what a crawl found; returns how many articles were new.

        An article held already (by canonical URL, by an alias URL, or by the GUID the same
        source gave it within two days) is not added again; a discussion (HN, Reddit,
        Lobsters) of an article held is attached to it. A similar title alone never makes
        two articles one: near-identical names are how releases are named ("GPT-5 mini",
        "GPT-5 nano"), and telling which articles tell one event is the analyze stage's work.
        """
        return self.add_crawled_sources([articles], fetched_at)[0]

    def add_crawled_sources(
        self, sources: Sequence[Sequence[Article]], fetched_at: datetime
    ) -> list[int]:
        """`add_crawled` for each source's articles in turn, in one transaction."""
        with self.engine.begin() as conn:
            insert = self._insert_ignoring_duplicates
            return [_add_crawled(conn, insert, articles, fetched_at) for articles in sources]

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are held, as an article or as an alias."""
        urls = list(urls)
        a, al = schema.articles, schema.article_aliases
        with self.engine.connect() as conn:
            found = set(conn.execute(select(a.c.url).where(a.c.url.in_(urls))).scalars())
            found |= set(conn.execute(select(al.c.url).where(al.c.url.in_(urls))).scalars())
        return found

    def discussions_of(self, article_id: str) -> list[tuple[str, str, int, int]]:
        """(source, url, score, comments) of every thread about the article, busiest first."""
        d = schema.discussions
        query = (
            select(d.c.source, d.c.url, d.c.score, d.c.comments)
            .where(d.c.article_id == article_id)
            .order_by(d.c.score.desc())
        )
        with self.engine.connect() as conn:
            return [(s, u, int(n), int(c)) for s, u, n, c in conn.execute(query)]

    def discussions_about(
        self, article_ids: Iterable[str]
    ) -> dict[str, list[tuple[str, str, int, int]]]:
        """`discussions_of` for many articles at once, by article id."""
        d = schema.discussions
        ids = sorted(set(article_ids))
        found: dict[str, list[tuple[str, str, int, int]]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):  # within any database's parameter limit
                query = (
                    select(d.c.article_id, d.c.source, d.c.url, d.c.score, d.c.comments)
                    .where(d.c.article_id.in_(ids[start : start + 500]))
                    .order_by(d.c.score.desc(), d.c.url)
                )
                for a, s, u, n, c in conn.execute(query):
                    found.setdefault(a, []).append((s, u, int(n), int(c)))
        return found

    def source_health(self) -> dict[str, SourceHealth]:
        """Every source's remembered state, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.source_state)).mappings().all()
        health = {}
        for r in rows:
            values: dict[str, Any] = {
                k: (_utc(v) if isinstance(v, datetime) else v) for k, v in r.items()
            }
            health[r["source"]] = SourceHealth(**values)
        return health

    def save_source_health(self, states: Iterable[SourceHealth]) -> None:
        rows = [{name: getattr(s, name) for name in _HEALTH_FIELDS} for s in states]
        if not rows:
            return
        t = schema.source_state
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.source.in_([r["source"] for r in rows])))
            conn.execute(t.insert(), rows)

    def robots_files(self) -> dict[str, tuple[int, str, datetime]]:
        """origin -> (status, body, fetched_at) of the robots.txt files fetched so far."""
        t = schema.robots
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.origin, t.c.status, t.c.body, t.c.fetched_at)).all()
        return {o: (s, b, _utc(f)) for o, s, b, f in rows}

    def save_robots_files(self, files: dict[str, tuple[int, str, datetime]]) -> None:
        if not files:
            return
        t = schema.robots
        rows = [
            {"origin": o, "status": s, "body": b, "fetched_at": _utc(f)}
            for o, (s, b, f) in files.items()
        ]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.origin.in_(list(files))))
            conn.execute(t.insert(), rows)


_Held = tuple[str, str, datetime]  # id, guid, published_at of a stored article


def _add_crawled(
    conn: Connection,
    insert: Callable[[object], Insert],
    articles: Sequence[Article],
    fetched_at: datetime,
) -> int:
    if not articles:
        return 0
    a = schema.articles
    urls = [x.url for x in articles]
    ids = [x.id for x in articles]
    held_ids = set(conn.execute(select(a.c.id).where(a.c.id.in_(ids))).scalars())
    aliases = dict(
        conn.execute(
            select(schema.article_aliases.c.url, schema.article_aliases.c.article_id).where(
                schema.article_aliases.c.url.in_(urls)
            )
        ).all()
    )
    new_rows: list[dict[str, Any]] = []
    unheld = [x for x in articles if x.id not in held_ids and x.url not in aliases]
    recent = _recent(conn, unheld)
    guids = Counter(x.guid for x in articles)
    for article in articles:
        target = article.id if article.id in held_ids else aliases.get(article.url)
        if target is None:
            target = _relisted(article, guids, recent.get(article.source, ()))
            if target is not None:
                conn.execute(
                    insert(schema.article_aliases),
                    [{"url": article.url, "article_id": target}],
                )
        if target is None:
            new_rows.append(_row(article, fetched_at))
            held_ids.add(article.id)
            aliases[article.url] = article.id
            continue
        _enrich(conn, target, article)
        if article.discussion_url:
            _attach(conn, target, article, fetched_at)
    if new_rows:
        conn.execute(insert(a), new_rows)
        for row in new_rows:
            if row["discussion_url"]:
                _record_discussion(conn, row["id"], row, fetched_at)
    return len(new_rows)


def _recent(conn: Connection, articles: Sequence[Article]) -> dict[str, list[_Held]]:
    """Per source, the stored articles a re-listing among `articles` could be: one query each."""
    a = schema.articles
    found: dict[str, list[_Held]] = {}
    for source in {x.source for x in articles if x.guid}:
        listed = [x for x in articles if x.source == source and x.guid]
        times = [_utc(x.published_at) for x in listed]
        query = select(a.c.id, a.c.guid, a.c.published_at).where(
            a.c.source == source,
            a.c.guid.in_(sorted({x.guid for x in listed})),
            a.c.published_at >= min(times) - _CHURN_WINDOW,
            a.c.published_at <= max(times) + _CHURN_WINDOW,
        )
        found[source] = [(str(i), g, _utc(p)) for i, g, p in conn.execute(query)]
    return found


def _relisted(article: Article, guids: Counter[str], held: Sequence[_Held]) -> str | None:
    """The stored article from the same source that `article` is a re-listing of under a new
    URL (an edited slug), by the GUID the source gave both within two days; else None.

    `guids` counts the GUIDs of the batch `article` came in: a GUID identifies an item only
    when the feed does not give it to several items, and the window keeps a feed that reuses
    GUIDs over time (numbering its items 1, 2, 3 every day) from merging new items into old.
    """
    if not article.guid or guids[article.guid] != 1:
        return None
    when = _utc(article.published_at)
    for cid, guid, published in held:
        if guid == article.guid and abs(published - when) <= _CHURN_WINDOW:
            return cid
    return None


def _enrich(conn: Connection, article_id: str, article: Article) -> None:
    """Fill in a held article's text when this listing brought a better one."""
    if article.text_status != "full":
        return
    a = schema.articles
    conn.execute(
        update(a)
        .where(a.c.id == article_id, a.c.text_status != "full")
        .values(text_status="full", full_text=article.full_text)
    )


def _attach(conn: Connection, article_id: str, article: Article, seen_at: datetime) -> None:
    _record_discussion(conn, article_id, _row(article, seen_at), seen_at)
    a = schema.articles
    # The busiest thread is the one the article shows.
    conn.execute(
        update(a)
        .where(
            a.c.id == article_id,
            (a.c.discussion_url == article.discussion_url) | (a.c.score <= article.score),
        )
        .values(
            discussion_url=article.discussion_url,
            score=article.score,
            comments=article.comments,
        )
    )


def _record_discussion(
    conn: Connection, article_id: str, row: dict[str, Any], seen_at: datetime
) -> None:
    d = schema.discussions
    conn.execute(d.delete().where(d.c.url == row["discussion_url"]))
    conn.execute(
        d.insert(),
        [
            {
                "url": row["discussion_url"],
                "article_id": article_id,
                "source": row["source"],
                "score": row["score"],
                "comments": row["comments"],
                "seen_at": _utc(seen_at),
            }
        ],
    )
