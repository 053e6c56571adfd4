"""One source's visit: its fetches, made conditional with what the last visit was told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from digest.crawl.http import Fetched, Fetcher
from digest.models import SourceHealth


@dataclass(frozen=True)
class Validators:
    """What a server said to let us ask 'has it changed?' next time."""

    url: str = ""
    etag: str = ""
    last_modified: str = ""


class Visit:
    """Hands a reader the fetcher; sends If-None-Match / If-Modified-Since for a URL seen.

    When `stopping()` is true as the visit's first fetch gets its turn, that fetch raises
    Withdrawn: a stopping crawl starts no more sources, but finishes the ones it started.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        health: SourceHealth | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self._stopping = stopping
        self._previous = (
            Validators(health.validated_url, health.etag, health.last_modified)
            if health
            else Validators()
        )
        self.validators = self._previous
        self.not_modified = False

    async def get(self, url: str, host_delay: float = 0.0) -> Fetched:
        """The body at `url`; a 304 (nothing changed) comes back with `not_modified` set."""
        known = self._previous if self._previous.url == url else Validators()
        stopping, self._stopping = self._stopping, None  # asked before the first fetch only
        fetched = await self.fetcher.get(
            url,
            etag=known.etag,
            last_modified=known.last_modified,
            host_delay=host_delay,
            proceed=None if stopping is None else lambda: not stopping(),
        )
        if fetched.not_modified:
            self.not_modified = True
            self.validators = known
        else:
            self.validators = Validators(url, fetched.etag, fetched.last_modified)
        return fetched
