"""One source's visit: its fetches, made conditional with what the last visit was told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.allowance import Origin
from digest.crawl.http import Fetched, Fetcher
from digest.errors import FeedError
from digest.models import SourceHealth

# Validators older than this are not sent: a server that answers 304 forever (or wrongly)
# is read in full at least once a week, as Miniflux does.
REVALIDATE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Validators:
    """What a server said to let us ask 'has it changed?' next time, and when it last sent
    the whole document (`at`)."""

    url: str = ""
    etag: str = ""
    last_modified: str = ""
    at: datetime | None = None


class Visit:
    """Hands a reader the fetcher; sends If-None-Match / If-Modified-Since for a URL seen.

    When `stopping()` is true as the visit's first fetch gets its turn, that fetch raises
    Withdrawn: a stopping crawl starts no more sources, but finishes the ones it started.
    Fetches are made on behalf of the source at `source_url`: they may reach its origin if
    crawl.allowed_hosts opens it, and no other private address.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        source_url: str,
        health: SourceHealth | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.permit: Origin | None = fetcher.permit_for(source_url)
        self._stopping = stopping
        self._previous = (
            Validators(health.validated_url, health.etag, health.last_modified, health.validated_at)
            if health
            else Validators()
        )
        self.validators = self._previous
        self.not_modified = False
        self.warnings: list[str] = []  # what was wrong with what was read, yet salvaged

    async def get(self, url: str, host_delay: float = 0.0) -> Fetched:
        """The body at `url`; a 304 (nothing changed) comes back with `not_modified` set.

        An empty body is a FeedError: a source that sends nothing has not been read.
        """
        known = self._previous if self._previous.url == url else Validators()
        if known.at is None or datetime.now(known.at.tzinfo) - known.at > REVALIDATE_AFTER:
            known = Validators()
        stopping, self._stopping = self._stopping, None  # asked before the first fetch only
        fetched = await self.fetcher.get(
            url,
            etag=known.etag,
            last_modified=known.last_modified,
            host_delay=host_delay,
            permit=self.permit,
            proceed=None if stopping is None else lambda: not stopping(),
        )
        if fetched.not_modified:
            # A 304 may carry newer validators (RFC 9111 4.3.4); they replace the old ones.
            self.not_modified = True
            self.validators = Validators(
                url,
                fetched.etag or known.etag,
                fetched.last_modified or known.last_modified,
                known.at,
            )
        elif not fetched.body.strip():
            raise FeedError(
                f"{fetched.url} answered {fetched.status} with an empty body; the source may "
                "be broken on the site's side — try again later, or check the URL in sources.yaml"
            )
        else:
            self.validators = Validators(
                url, fetched.etag, fetched.last_modified, fetched.fetched_at
            )
        return fetched

    def warn(self, warning: str) -> None:
        """Note what was wrong with a document that was read anyway."""
        self.warnings.append(warning)
