"""The `lobsters` source kind: the stories of one tag, from its JSON listing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from digest.crawl.apijson import load_json, shape_error
from digest.crawl.articles import as_int, make_article, parse_time, plain, unique
from digest.crawl.kind import SourceEntry, declare
from digest.crawl.text import one_line
from digest.crawl.visit import Visit
from digest.models import Article, Source


async def read_lobsters(visit: Visit, source: Source) -> tuple[Article, ...]:
    """Stories tagged `tag`: the linked article (or text post) with score and thread."""
    fetched = await visit.get(f"{source.url.rstrip('/')}/t/{source.params['tag']}.json")
    if fetched.not_modified:
        return ()
    stories = load_json(fetched, "Lobsters")
    if not isinstance(stories, list):
        raise shape_error(fetched, "a Lobsters tag listing", "a list of stories")
    limit = int(source.params.get("max_items", 200))
    return unique(
        _story(s, fetched.fetched_at, source) for s in stories[:limit] if isinstance(s, dict)
    )


def _story(story: dict[str, Any], fetched_at: Any, source: Source) -> Article | None:
    thread = str(story.get("comments_url") or story.get("short_id_url") or "")
    submitter = story.get("submitter_user")
    if isinstance(submitter, dict):
        submitter = submitter.get("username")
    tags = story.get("tags") if isinstance(story.get("tags"), list) else []
    return make_article(
        source,
        str(story.get("url") or thread),
        one_line(str(story.get("title") or "")),
        str(story.get("description_plain") or plain(str(story.get("description") or ""))),
        parse_time(story.get("created_at")),
        fetched_at,
        author=str(submitter or ""),
        guid=str(story.get("short_id") or ""),
        tags=[str(t) for t in tags or []],
        discussion_url=thread,
        score=as_int(story.get("score")),
        comments=as_int(story.get("comment_count")),
    )


_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$"


class LobstersEntry(SourceEntry):
    """Lobsters stories of one tag."""

    kind: Literal["lobsters"]
    url: str = "https://lobste.rs"
    tag: str = Field(pattern=_NAME)


KIND = declare("lobsters", LobstersEntry, read_lobsters)
