"""A source kind from outside digest: a release log served as a JSON list of entries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from digest.crawl.apijson import load_json, shape_error
from digest.crawl.articles import make_article, parse_time, unique
from digest.crawl.kind import SourceEntry, SourceKind
from digest.crawl.visit import Visit
from digest.models import Article, Source


async def read_changelog(visit: Visit, source: Source) -> tuple[Article, ...]:
    """Each release of the log: its page, its title and its notes."""
    fetched = await visit.get(source.url)
    if fetched.not_modified:
        return ()
    releases = load_json(fetched, "a release log")
    if not isinstance(releases, list):
        raise shape_error(fetched, "a release log", "a list of releases")
    return unique(
        make_article(
            source,
            str(r.get("url") or ""),
            f"{source.params['product']} {r.get('version', '')}",
            str(r.get("notes") or ""),
            parse_time(r.get("date")),
            fetched.fetched_at,
        )
        for r in releases
        if isinstance(r, dict)
    )


class ChangelogEntry(SourceEntry):
    """A product's release log."""

    kind: Literal["changelog"]
    url: str
    product: str = Field(min_length=1)


# Not filed by this module: the test files it as a plugin would be, or as a module of crawl/.
KIND = SourceKind("changelog", ChangelogEntry, read_changelog)
