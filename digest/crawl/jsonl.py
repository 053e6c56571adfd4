"""The `jsonl` source kind: an archive of items, one JSON object per line, by URL or path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from digest.crawl.articles import as_int, make_article, parse_time, plain, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.text import one_line
from digest.crawl.visit import Visit
from digest.errors import FeedError
from digest.models import Article, Source


def _first(item: dict[str, Any], *keys: str) -> Any:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


async def read_jsonl(visit: Visit, source: Source) -> tuple[Article, ...]:
    """Every item of the archive (the newest `max_items`); bad lines are counted and skipped."""
    limit = int(source.params.get("max_items", 10_000))
    if source.url:
        fetched = await visit.get(source.url)
        if fetched.not_modified:
            return ()
        body, where, fetched_at = fetched.body, fetched.url, fetched.fetched_at
    else:
        path = Path(source.params["path"])
        try:
            size = path.stat().st_size
            if size > visit.fetcher.policy.max_bytes:
                raise FeedError(
                    f"{path} is {size} bytes, more than crawl.max_bytes; split the archive "
                    "or raise crawl.max_bytes in digest.toml"
                )
            body = path.read_bytes()
        except OSError as exc:
            raise FeedError(f"{path}: cannot be read ({exc.strerror}); check the path") from exc
        where, fetched_at = str(path), datetime.now(UTC)
    items, bad = [], 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            bad += 1
            continue
        if isinstance(item, dict):
            items.append(item)
        else:
            bad += 1
    if bad and not items:
        raise FeedError(f"{where}: no line is a JSON object; is it really a JSON Lines archive?")
    if bad:
        visit.warn(f"{where}: skipped {bad} lines that are not JSON objects")
    articles = [_item(i, fetched_at, source) for i in items]
    kept = sorted((a for a in articles if a), key=lambda a: a.published_at, reverse=True)
    return unique(kept[:limit])


def _item(item: dict[str, Any], fetched_at: datetime, source: Source) -> Article | None:
    thread = str(_first(item, "discussion_url", "permalink", "comments_url") or "")
    link = _first(item, "url", "link", "external_url") or thread
    if not link:
        return None
    tags = _first(item, "tags", "categories")
    flair = _first(item, "label_flair", "flair")
    tag_list = [str(t) for t in tags] if isinstance(tags, list) else []
    return make_article(
        source,
        str(link),
        one_line(str(_first(item, "title") or "")),
        plain(str(_first(item, "text", "summary", "content", "description") or "")),
        parse_time(_first(item, "published_at", "published", "date", "created_at")),
        fetched_at,
        author=str(_first(item, "author") or ""),
        guid=str(_first(item, "guid", "id", "item_id") or ""),
        tags=[*tag_list, str(flair)] if flair else tag_list,
        discussion_url=thread,
        score=as_int(_first(item, "score", "points", "score_at_capture")),
        comments=as_int(_first(item, "comments", "num_comments", "num_comments_at_capture")),
    )


class JsonlEntry(SourceEntry):
    """An archive of items, one JSON object per line, from a URL or a local file."""

    kind: Literal["jsonl"]
    url: str = ""
    path: Path | None = None
    max_items: int = Field(10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _one_place(self) -> JsonlEntry:
        if bool(self.url) == (self.path is not None):
            raise ValueError("give either url or path (not both)")
        return self


KIND = declare("jsonl", JsonlEntry, read_jsonl)
