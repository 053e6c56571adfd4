"""One guarded HTTP client: public hosts only, capped size and time, polite per host."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from digest import clock
from digest.allowance import Origin, origin_of, private_origin
from digest.crawl.backoff import BACKOFF_BASE
from digest.crawl.body import read_capped
from digest.crawl.decode import ACCEPT_ENCODING
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
    # Entries of crawl.allowed_hosts: origins (or hosts) a source whose own URL is there may
    # reach though they resolve to loopback or private addresses.
    allowed_hosts: frozenset[str] = frozenset()


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
    """One host's share of the crawl: its own slots, the earliest next start, and how long
    it asked every request to wait (a 429 to one of its feeds holds them all)."""

    def __init__(self, slots: int) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.lock = asyncio.Lock()
        self.next_start = 0.0
        self.held_until = 0.0  # loop time
        self.held_by = 0  # the status that asked for the wait

    async def wait_turn(self, delay: float) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next_start > now:
                await asyncio.sleep(self.next_start - now)
            self.next_start = time.monotonic() + delay

    def hold(self, seconds: float, status: int) -> None:
        until = time.monotonic() + seconds
        if until > self.held_until:
            self.held_until, self.held_by = until, status


class _Budget:
    """What is left of one fetch's deadline, which covers its redirects, retries and waits."""

    def __init__(self, seconds: float) -> None:
        self.total = self.left = seconds

    def spend(self, seconds: float) -> None:
        self.left -= seconds

    def exceeded(self, url: str) -> FetchError:
        return FetchError(
            f"{url} took longer than {self.total:g} s to download; the site may be "
            "overloaded — try again later or raise crawl.deadline in digest.toml"
        )


class Fetcher:
    """Fetches URLs through one shared client, within global and per-host limits.

    Requests go through a client that connects only to public addresses, except a request
    to the private origin crawl.allowed_hosts opens to the source it is made for, which goes
    through a second client; so a connection to a private address, once open, is never
    reused on behalf of another source.
    """

    def __init__(
        self, public: httpx.AsyncClient, private: httpx.AsyncClient, policy: FetchPolicy
    ) -> None:
        self._public = public
        self._private = private
        self.policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, _Host] = {}

    def permit_for(self, source_url: str) -> Origin | None:
        """The private origin crawl.allowed_hosts opens to the source at `source_url`."""
        return private_origin(source_url, self.policy.allowed_hosts)

    async def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        host_delay: float = 0.0,
        max_bytes: int | None = None,
        cut: bool = False,
        permit: Origin | None = None,
        proceed: Callable[[], bool] | None = None,
    ) -> Fetched:
        """The body at `url`; FetchError says why when there is none.

        `etag` and `last_modified` make the request conditional; `host_delay` raises the
        policy's delay for this host (arXiv asks for 3 s between requests). A body past
        `max_bytes` (default: the policy's) is refused, or with `cut` cut there. `permit` is
        the private origin this fetch may reach (see `permit_for`). `proceed` is asked once
        the fetch has its turn, just before each request: False raises Withdrawn. One
        deadline covers the fetch, its redirects, and a retry after a short Retry-After.
        """
        headers = {"Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = _Request(url, headers, host_delay, max_bytes or self.policy.max_bytes, cut)
        budget = _Budget(self.policy.deadline)
        try:
            return await self._attempt(request, budget, permit, proceed)
        except RetryLater as exc:
            if exc.retry_after > self.policy.retry_wait or exc.retry_after >= budget.left:
                raise
            await asyncio.sleep(exc.retry_after)
            budget.spend(exc.retry_after)
            return await self._attempt(request, budget, permit, proceed)

    async def _attempt(
        self,
        request: _Request,
        budget: _Budget,
        permit: Origin | None,
        proceed: Callable[[], bool] | None,
    ) -> Fetched:
        current, loop = request.url, asyncio.get_running_loop()
        for _ in range(self.policy.max_redirects + 1):
            target = _checked(current)
            host = self._hosts.setdefault(target.host, _Host(self.policy.per_host))
            async with host.slots:
                await host.wait_turn(max(request.host_delay, self.policy.host_delay))
                await self._wait_for_hold(host, current, budget)
                async with self._slots:
                    if proceed is not None and not proceed():
                        raise Withdrawn(request.url)
                    if budget.left <= 0:
                        raise budget.exceeded(request.url)
                    # The clock runs only while a request is out, not while waiting for slots
                    # (a redirect waits for a slot again), so a busy crawl is not "slow".
                    sent = loop.time()
                    try:
                        async with asyncio.timeout_at(sent + budget.left):
                            fetched, current = await self._hop(
                                request, target, current, host, permit
                            )
                    except TimeoutError:
                        raise budget.exceeded(request.url) from None
                    finally:
                        budget.spend(loop.time() - sent)
                    if fetched is not None:
                        return fetched
        raise FetchError(
            f"{request.url} redirected more than {self.policy.max_redirects} times; open it in "
            "a browser and put the address it ends at in sources.yaml"
        )

    async def _wait_for_hold(self, host: _Host, url: str, budget: _Budget) -> None:
        """Wait out a short hold the host asked for; a long one fails the fetch unasked."""
        wait = host.held_until - time.monotonic()
        if wait <= 0:
            return
        if wait > self.policy.retry_wait or wait >= budget.left:
            raise RetryLater(
                f"{url} was not fetched: its host answered {host.held_by} to another request, "
                f"so it is left alone for {wait:.0f} s more; the source is retried after that",
                host.held_by,
                wait,
            )
        await asyncio.sleep(wait)
        budget.spend(wait)

    async def _hop(
        self,
        request: _Request,
        target: httpx.URL,
        current: str,
        host: _Host,
        permit: Origin | None,
    ) -> tuple[Fetched | None, str]:
        """The response at `target`, or None and the address it redirects to."""
        private = permit is not None and origin_of(target) == permit
        client = self._private if private else self._public
        try:
            async with client.stream("GET", target, headers=request.headers) as response:
                if response.has_redirect_location:
                    return None, _redirect_target(target, response.headers["location"])
                return await self._answer(response, current, request, host), current
        except BlockedAddress as exc:
            if current == request.url:
                raise FetchError(
                    f"refused to fetch {current}: {exc}; if this source really lives on your "
                    f"network, add '{origin_of(target)}' to crawl.allowed_hosts in digest.toml"
                ) from None
            raise FetchError(
                f"refused to follow {request.url} to {current}: {exc}; crawl.allowed_hosts "
                "lets a source reach a private address only at the origin of its own URL"
            ) from None
        except httpx.HTTPError as exc:
            raise explain(exc, target, self.policy) from exc

    async def _answer(
        self, response: httpx.Response, url: str, request: _Request, host: _Host
    ) -> Fetched:
        status = response.status_code
        if status in (429, 503) and "retry-after" in response.headers:
            wait = retry_after(response.headers["retry-after"], self.policy.max_retry_after)
            if wait is not None:
                host.hold(wait, status)
                raise RetryLater(
                    f"{url} answered {status} and asked us to wait {wait:g} s; "
                    "the source is retried after that",
                    status,
                    wait,
                )
        if status == 429:
            host.hold(BACKOFF_BASE, status)  # no Retry-After: as long as a first backoff
        if status != 304:
            status_error(response, url)
        body = b""
        if status != 304:
            body = await read_capped(response, request.max_bytes, url, request.cut)
        return Fetched(
            url=url,
            content_type=response.headers.get("content-type", ""),
            body=body,
            fetched_at=clock.now(),
            status=status,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )


@dataclass(frozen=True)
class _Request:
    """One fetch as asked for, the same for each of its hops and its retry."""

    url: str
    headers: dict[str, str]
    host_delay: float
    max_bytes: int
    cut: bool


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
    tls = httpx.create_ssl_context()  # loading the CA store takes ~0.1 s: done once
    async with (
        _client(policy, GuardedBackend(), tls) as public,
        _client(policy, httpcore.AnyIOBackend(), tls) as private,
    ):
        yield Fetcher(public, private, policy)


def _client(
    policy: FetchPolicy, backend: httpcore.AsyncNetworkBackend, tls: ssl.SSLContext
) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=policy.concurrency)
    transport = httpx.AsyncHTTPTransport(verify=tls, limits=limits)
    # httpx takes no network backend, so its pool is rebuilt with the one given.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return httpx.AsyncClient(
        headers={"User-Agent": policy.user_agent},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        transport=transport,
        follow_redirects=False,  # each hop is checked by Fetcher before it is followed
        trust_env=False,  # a proxy from the environment would bypass the private-address guard
        # httpx prepares the next request of a redirect even when it does not follow it, and
        # fails on a Location it cannot parse (data:...): the hop is vetted before that.
        event_hooks={"response": [_vet_redirect]},
    )


async def _vet_redirect(response: httpx.Response) -> None:
    if response.has_redirect_location:
        _redirect_target(response.request.url, response.headers["location"])


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
