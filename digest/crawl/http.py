"""One guarded HTTP client: public hosts only, capped size and time, polite per host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from digest.crawl.decode import ACCEPT_ENCODING, BodyDecoder, TooLarge
from digest.crawl.explain import BadStatus, explain, status_error
from digest.crawl.guard import BlockedAddress, GuardedBackend
from digest.errors import FetchError

_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class FetchPolicy:
    """How the crawler behaves on the network; every limit applies to each fetch."""

    user_agent: str = "digest/0.1 (+https://github.com/digest-news/digest)"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # total seconds per fetch, enforced even if a server drips bytes
    max_bytes: int = 10 * 1024 * 1024  # counted on the decoded (decompressed) body
    max_redirects: int = 5
    concurrency: int = 8  # fetches in flight at once, across all sources
    per_host: int = 2  # fetches in flight at once to one host
    host_delay: float = 0.0  # seconds between the starts of two fetches from one host
    retry_wait: float = 10.0  # a Retry-After up to this long is waited out, then retried once
    max_retry_after: float = 6 * 3600.0  # a longer Retry-After is believed only up to this
    allowed_hosts: frozenset[str] = frozenset()  # may resolve to loopback or private addresses


@dataclass(frozen=True)
class Fetched:
    """A successful response, read in full (or a 304 with no body)."""

    url: str  # after redirects: relative links in the body resolve against it
    content_type: str
    body: bytes
    fetched_at: datetime
    status: int = 200
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET: nothing to parse."""
        return self.status == 304


class RetryLater(BadStatus):
    """The server asked us to come back later (429 or 503 with Retry-After)."""

    def __init__(self, message: str, status: int, retry_after: float) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class Withdrawn(Exception):
    """A fetch called off before it was sent, because its crawl is stopping."""


class _Host:
    """One host's share of the crawl: its own slots and the earliest next start."""

    def __init__(self, slots: int) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    async def wait_turn(self, delay: float) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next_start > now:
                await asyncio.sleep(self.next_start - now)
            self.next_start = time.monotonic() + delay


class Fetcher:
    """Fetches URLs through one shared client, within global and per-host limits."""

    def __init__(self, client: httpx.AsyncClient, policy: FetchPolicy) -> None:
        self._client = client
        self.policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, _Host] = {}

    async def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        host_delay: float = 0.0,
        max_bytes: int | None = None,
        proceed: Callable[[], bool] | None = None,
    ) -> Fetched:
        """The body at `url`; FetchError says why when there is none.

        `etag` and `last_modified` make the request conditional; `host_delay` raises the
        policy's delay for this host (arXiv asks for 3 s between requests). `proceed` is asked
        once the fetch has its turn, just before each request: False raises Withdrawn.
        """
        headers = {"Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        limit = max_bytes or self.policy.max_bytes
        try:
            return await self._attempt(url, headers, host_delay, limit, proceed)
        except RetryLater as exc:
            if exc.retry_after > self.policy.retry_wait:
                raise
            await asyncio.sleep(exc.retry_after)
            return await self._attempt(url, headers, host_delay, limit, proceed)

    async def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        host_delay: float,
        limit: int,
        proceed: Callable[[], bool] | None,
    ) -> Fetched:
        current, spent, loop = url, 0.0, asyncio.get_running_loop()
        for _ in range(self.policy.max_redirects + 1):
            target = _checked(current)
            host = self._hosts.setdefault(target.host, _Host(self.policy.per_host))
            async with host.slots:
                await host.wait_turn(max(host_delay, self.policy.host_delay))
                async with self._slots:
                    if proceed is not None and not proceed():
                        raise Withdrawn(url)
                    # The clock runs only while a request is out, not while waiting for slots
                    # (a redirect waits for a slot again), so a busy crawl is not "slow".
                    sent = loop.time()
                    try:
                        async with asyncio.timeout_at(sent + self.policy.deadline - spent):
                            fetched, current = await self._hop(target, current, headers, limit)
                    except TimeoutError:
                        raise FetchError(
                            f"{url} took longer than {self.policy.deadline:g} s to download; the "
                            "site may be overloaded — try again later or raise crawl.deadline "
                            "in digest.toml"
                        ) from None
                    if fetched is not None:
                        return fetched
                    spent += loop.time() - sent
        raise FetchError(
            f"{url} redirected more than {self.policy.max_redirects} times; open it in a "
            "browser and put the address it ends at in sources.yaml"
        )

    async def _hop(
        self, target: httpx.URL, current: str, headers: dict[str, str], limit: int
    ) -> tuple[Fetched | None, str]:
        """The response at `target`, or None and the address it redirects to."""
        try:
            async with self._client.stream("GET", target, headers=headers) as response:
                if response.has_redirect_location:
                    return None, _redirect_target(target, response.headers["location"])
                return await self._answer(response, current, limit), current
        except BlockedAddress as exc:
            raise FetchError(f"refused to fetch {current}: {exc}") from None
        except httpx.HTTPError as exc:
            raise explain(exc, target, self.policy) from exc

    async def _answer(self, response: httpx.Response, url: str, limit: int) -> Fetched:
        status = response.status_code
        if status in (429, 503) and "retry-after" in response.headers:
            wait = retry_after(response.headers["retry-after"], self.policy.max_retry_after)
            if wait is not None:
                raise RetryLater(
                    f"{url} answered {status} and asked us to wait {wait:g} s; "
                    "the source is retried after that",
                    status,
                    wait,
                )
        if status != 304:
            status_error(response, url)
        return Fetched(
            url=url,
            content_type=response.headers.get("content-type", ""),
            body=b"" if status == 304 else await _read_capped(response, limit, url),
            fetched_at=datetime.now(UTC),
            status=status,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )


def retry_after(value: str, cap: float) -> float | None:
    """Seconds to wait from a Retry-After value (seconds or an HTTP date), at most `cap`."""
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), cap)


@asynccontextmanager
async def open_fetcher(policy: FetchPolicy) -> AsyncIterator[Fetcher]:
    """A Fetcher whose connections are closed when the block ends."""
    limits = httpx.Limits(max_connections=policy.concurrency)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx takes no network backend, so its pool is rebuilt with the guarded one.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(policy.allowed_hosts),
    )
    client = httpx.AsyncClient(
        headers={"User-Agent": policy.user_agent},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        transport=transport,
        follow_redirects=False,  # each hop is checked by Fetcher before it is followed
        trust_env=False,  # a proxy from the environment would bypass the private-address guard
    )
    async with client:
        yield Fetcher(client, policy)


def _checked(url: str) -> httpx.URL:
    """`url` parsed, once its scheme is http(s) and it names a host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url!r} is not a valid URL ({exc}); fix it in sources.yaml") from exc
    if parsed.scheme not in _SCHEMES:
        raise FetchError(
            f"refused to fetch {url}: only http and https URLs are fetched; "
            "fix the URL in sources.yaml"
        )
    if not parsed.host:
        raise FetchError(f"{url!r} has no host name; fix it in sources.yaml")
    return parsed


def _redirect_target(url: httpx.URL, location: str) -> str:
    try:
        target = url.join(location)
    except httpx.InvalidURL:
        raise FetchError(f"{url} redirected to an invalid address {location!r}") from None
    if target.scheme not in _SCHEMES:
        raise FetchError(
            f"refused to follow {url} to {location}: only http and https URLs are fetched, "
            "so this feed cannot be read"
        )
    return str(target)


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    encoding = response.headers.get("content-encoding", "")
    try:
        decoder = BodyDecoder(encoding, max_bytes)
    except ValueError as exc:
        raise FetchError(
            f"{url} was sent in the {exc} encoding, which digest does not read; "
            "the site ignores the encodings we ask for"
        ) from None
    length = response.headers.get("content-length", "")
    if not encoding and length.isdigit() and int(length) > max_bytes:
        raise _too_large(url, max_bytes)
    chunks: list[bytes] = []
    try:
        async for raw in response.aiter_raw():
            chunks.append(decoder.decode(raw))
    except TooLarge:
        raise _too_large(url, max_bytes) from None
    except Exception as exc:
        if isinstance(exc, httpx.HTTPError):
            raise
        raise FetchError(
            f"{url} sent a body that could not be decompressed ({exc}); try again later"
        ) from None
    return b"".join(chunks)


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError(
        f"{url} is larger than {_size(max_bytes)}; raise crawl.max_bytes in digest.toml "
        "if this source is legitimate"
    )


def _size(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"
