"""Items from a JSONL file (`digest cluster` input) as Articles, with errors naming the line."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.errors import ConfigError
from digest.models import Article

REQUIRED = ("id", "title")


def _when(value: Any, where: str) -> datetime:
    if value in (None, ""):
        return datetime(1970, 1, 1, tzinfo=UTC)
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise ConfigError(
            f"{where}: published_at {value!r} is not an ISO-8601 time or a Unix timestamp"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def article_from_item(item: dict[str, Any], where: str) -> Article:
    """One item (`id`, `title`, `text`, `url`, `published_at`, `source`) as an Article."""
    missing = [k for k in REQUIRED if item.get(k) in (None, "")]
    if missing:
        raise ConfigError(
            f"{where}: missing {', '.join(missing)}; every item needs an id and title"
        )
    title = str(item["title"]).strip()
    text = str(item.get("text") or "").strip()
    return Article(
        id=str(item["id"]),
        url=str(item.get("url") or ""),
        title=title,
        summary=text,
        source=str(item.get("source") or ""),
        published_at=_when(item.get("published_at"), where),
        content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(),
    )


def read_items(path: Path) -> list[Article]:
    """Every item of a JSONL file; a bad line is an error naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}); check the --input path"
        ) from exc
    articles: list[Article] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not a JSON object ({exc.msg}); one item per line") from exc
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: not a JSON object; one item per line")
        article = article_from_item(item, where)
        if article.id in seen:
            raise ConfigError(f"{where}: id {article.id!r} is used twice; ids must be unique")
        seen.add(article.id)
        articles.append(article)
    return articles
