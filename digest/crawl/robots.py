"""robots.txt for article pages, per RFC 9309, read with protego and cached per origin."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from protego import Protego

from digest.allowance import Origin
from digest.crawl.explain import BadStatus
from digest.crawl.http import Fetcher
from digest.errors import FetchError

AGENT = "digest"
_FRESH = timedelta(hours=24)
_FRESH_AFTER_ERROR = timedelta(hours=1)
_MAX_BYTES = 500 * 1024  # RFC 9309: crawlers must read at least 500 KiB
UNREACHABLE = 0  # the status kept for a robots.txt that could not be fetched

RobotsFile = tuple[int, str, datetime]  # status, body, fetched_at


class RobotsRules:
    """Answers 'may we fetch this page?'; fetches each origin's robots.txt at most once."""

    def __init__(self, fetcher: Fetcher, files: dict[str, RobotsFile]) -> None:
        self._fetcher = fetcher
        self.files = files  # origin -> file; new fetches are added, for the store to keep
        self._locks: dict[str, asyncio.Lock] = {}
        self._parsed: dict[str, Protego] = {}

    async def allowed(self, url: str, permit: Origin | None) -> bool:
        """True when robots.txt lets digest fetch `url` (4xx: yes; 5xx or unreachable: no).

        `permit` is the private origin the fetch may reach (see Fetcher.permit_for).
        """
        origin = _origin(url)
        async with self._locks.setdefault(origin, asyncio.Lock()):
            status, body, fetched_at = self.files.get(origin, (UNREACHABLE, "", _LONG_AGO))
            fresh = _FRESH if 200 <= status < 500 else _FRESH_AFTER_ERROR
            if datetime.now(UTC) - fetched_at > fresh:
                status, body = await self._fetch(origin, permit)
                self.files[origin] = (status, body, datetime.now(UTC))
                self._parsed.pop(origin, None)
        if 400 <= status < 500:
            return True
        if not 200 <= status < 300:
            return False
        if origin not in self._parsed:
            self._parsed[origin] = Protego.parse(body)
        return bool(self._parsed[origin].can_fetch(url, AGENT))

    async def _fetch(self, origin: str, permit: Origin | None) -> tuple[int, str]:
        try:
            # RFC 9309 2.5: a longer file is parsed up to the limit, not given up on.
            fetched = await self._fetcher.get(
                f"{origin}/robots.txt", max_bytes=_MAX_BYTES, cut=True, permit=permit
            )
        except BadStatus as exc:
            return exc.status, ""
        except FetchError:
            return UNREACHABLE, ""
        return fetched.status, fetched.body.decode("utf-8", errors="replace")


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"
