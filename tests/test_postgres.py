"""The store on PostgreSQL (a server the suite starts) and Alembic migrations on both databases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from digest import cli
from digest.models import Article, SourceHealth
from digest.store import Store, schema
from digest.store.mailing import Mailing
from digest.store.runs import RunLog
from digest.store.upgrade import head_revision
from tests.issues import two_weeks


def article(n: int, day: int = 17, **fields: object) -> Article:
    values: dict[str, object] = {
        "id": f"id{n}",
        "url": f"https://example.com/post/{n}",
        "title": f"Title {n}",
        "summary": f"Summary {n}.",
        "source": "Example",
        "published_at": datetime(2026, 11, day, 9, tzinfo=UTC),
        "content_hash": f"hash{n}",
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def test_articles_are_kept_once_with_aware_times(postgres_url: str) -> None:
    store = Store(postgres_url)
    now = datetime.now(UTC)
    assert store.add_articles([article(1), article(2, day=16)], now) == 2
    assert store.add_articles([article(1), article(3, url="https://example.com/post/2")], now) == 0
    assert store.add_crawled([article(4, tags=("llm", "é"), score=7)], now) == 1
    week = store.articles_between(date(2026, 11, 16), date(2026, 11, 23))
    assert [a.id for a in week] == ["id2", "id1", "id4"]
    assert all(a.published_at.tzinfo is not None for a in week)
    assert week[2].tags == ("llm", "é") and week[2].score == 7
    store.close()
    assert Store(postgres_url).count_articles() == 3  # reopened: still there, not re-created


def test_vectors_are_real_arrays_and_come_back_exactly(postgres_url: str) -> None:
    store = Store(postgres_url)
    v = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    store.save_vectors("m", {"h1": v})
    store.save_vectors("m", {"h1": v * 2})  # a second save never overwrites
    back = store.vectors("m", ["h1", "h2"])
    assert list(back) == ["h1"] and back["h1"].dtype == np.float32
    assert np.array_equal(back["h1"], v)
    many = [f"other{i}" for i in range(70_000)] + ["h1"]  # more than one statement's parameters
    assert list(store.vectors("m", many)) == ["h1"]
    store.save_week_themes("2026-w47", [("t1", "Chips", 3, v)])
    assert np.array_equal(store.week_themes("2026-w47")[0][3], v)
    with store.engine.connect() as conn:
        kind = conn.execute(text("select pg_typeof(vector)::text from embeddings")).scalar()
        length = conn.execute(text("select array_length(vector, 1) from embeddings")).scalar()
    assert (kind, length) == ("real[]", 384)


def test_issues_ledger_lock_and_subscribers(postgres_url: str) -> None:
    store = Store(postgres_url)
    newer, older = two_weeks()
    for issue in (older, newer, newer):  # saving again replaces, never duplicates
        store.save_issue(issue)
    assert store.issues() == [newer, older]
    issue = newer
    ledger, now = RunLog(store), datetime.now(UTC)
    run = ledger.start_run("crawl", "me", now)
    ledger.finish_run(run, "ok", now, counts={"new": 3})
    assert ledger.runs()[0].counts == {"new": 3}
    assert ledger.take_lock("pipeline", "me", now, timedelta(minutes=5))
    assert not ledger.take_lock("pipeline", "you", now, timedelta(minutes=5))
    assert ledger.take_lock("pipeline", "you", now + timedelta(minutes=6), timedelta(minutes=5))
    assert ledger.claim_alert("source down", now) and not ledger.claim_alert("source down", now)
    mailing = Mailing(store.engine)
    assert mailing.add([("A", "a@example.com"), ("B", "b@example.com")]).added
    (first, _) = mailing.due(issue.id)
    assert mailing.claim(issue.id, first.subscriber_id)
    assert not mailing.claim(issue.id, first.subscriber_id)  # at most once
    store.save_source_health([SourceHealth(source="Blog", failures=2, last_error="timeout")])
    assert store.source_health()["Blog"].failures == 2


def _schema_differences(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": lambda o, name, kind, *_: name != "apscheduler_jobs"}
        )
        return list(compare_metadata(context, schema.metadata))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migrations_make_exactly_the_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'new.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = Store(url)
    assert store.migrated == (None, head_revision())
    assert _schema_differences(store) == []
    assert Store(url).migrated == (head_revision(), head_revision())


def test_a_skeleton_store_upgrades_to_the_newest_revision(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the walking skeleton's articles and stories tables
        db.execute(
            "CREATE TABLE articles (id VARCHAR(32) PRIMARY KEY, url TEXT NOT NULL UNIQUE, "
            "source VARCHAR(200) NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, "
            "author TEXT NOT NULL, published_at DATETIME NOT NULL, fetched_at DATETIME NOT NULL, "
            "content_hash VARCHAR(64) NOT NULL)"
        )
        db.execute(
            "CREATE TABLE stories (id VARCHAR(40) PRIMARY KEY, first_seen DATETIME NOT NULL, "
            "published_in VARCHAR(20))"
        )
        db.execute(
            "INSERT INTO articles VALUES ('abc', 'https://a.example/x', 'Blog', 'Old', 's', '', "
            "'2025-07-07 10:00:00', '2025-07-07 10:00:00', 'h')"
        )
    (tmp_path / "digest.toml").write_text(f'[store]\nurl = "sqlite:///{path}"\n')
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.console, "print", lambda *a, **_: lines.append(" ".join(map(str, a))))
        assert cli.main(["migrate", "--config", str(tmp_path / "digest.toml")]) == 0
        assert cli.main(["migrate", "--config", str(tmp_path / "digest.toml")]) == 0
    assert f"from schema revision none to {head_revision()}" in lines[0]
    assert f"is at the newest schema revision, {head_revision()}" in lines[1]
    store = Store(f"sqlite:///{path}")
    (old,) = store.articles_by_id(["abc"])
    assert old.title == "Old" and old.text_status == "" and old.score == 0
    # Its indexes were added; only SQLite's leniency on a text primary key's NULL remains.
    left = [d for d in _schema_differences(store) if not _primary_key_nullable(d)]
    assert left == []


def _primary_key_nullable(difference: object) -> bool:
    return (
        isinstance(difference, list)
        and difference[0][0] == "modify_nullable"
        and (difference[0][3] == "id")
    )


def test_a_postgresql_url_without_the_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("psycopg"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    lines: list[str] = []
    monkeypatch.setattr(cli.console, "print", lambda *a, **_: lines.append(" ".join(map(str, a))))
    monkeypatch.setenv("DIGEST_STORE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/none")
    (tmp_path / "digest.toml").write_text("")
    assert cli.main(["migrate", "--config", str(tmp_path / "digest.toml")]) == 1
    assert "pip install 'digest[postgres]'" in lines[0]
    assert "secret" not in lines[0]  # the password in the URL is not printed
