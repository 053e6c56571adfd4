"""One guarded HTTP client: public hosts only, capped size and time, errors a person can act on."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from digest.errors import FetchError

_SCHEMES = ("http", "https")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    allowed_hosts: frozenset[str] = frozenset()  # may resolve to loopback or private addresses


@dataclass(frozen=True)
class Fetched:
    """A successful response, read in full."""

    url: str  # after redirects: relative links in the body resolve against it
    content_type: str
    body: bytes
    fetched_at: datetime


class Fetcher:
    """Fetches URLs through one shared client, at most `policy.concurrency` at a time."""

    def __init__(self, client: httpx.AsyncClient, policy: FetchPolicy) -> None:
        self._client = client
        self._policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def get(self, url: str) -> Fetched:
        """The body at `url`; FetchError says why when there is none."""
        async with self._slots:
            try:
                async with asyncio.timeout(self._policy.deadline):
                    return await self._follow(url)
            except TimeoutError:
                raise FetchError(
                    f"{url} took longer than {self._policy.deadline:g} s to download; the site "
                    "may be overloaded — try again later or raise crawl.deadline in digest.toml"
                ) from None

    async def _follow(self, url: str) -> Fetched:
        current = url
        for _ in range(self._policy.max_redirects + 1):
            target = await self._checked(current)
            try:
                async with self._client.stream("GET", target) as response:
                    if response.has_redirect_location:
                        current = _redirect_target(target, response.headers["location"])
                        continue
                    _check_status(response, current)
                    return Fetched(
                        url=current,
                        content_type=response.headers.get("content-type", ""),
                        body=await _read_capped(response, self._policy.max_bytes, current),
                        fetched_at=datetime.now(UTC),
                    )
            except httpx.HTTPError as exc:
                raise _explain(exc, target, self._policy) from exc
        raise FetchError(
            f"{url} redirected more than {self._policy.max_redirects} times; open it in a browser "
            "and put the address it ends at in sources.yaml"
        )

    async def _checked(self, url: str) -> httpx.URL:
        """`url` parsed, once its scheme is http(s) and its host is one we may connect to."""
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
        if parsed.host not in self._policy.allowed_hosts:
            await _refuse_private(parsed)
        return parsed


@asynccontextmanager
async def open_fetcher(policy: FetchPolicy) -> AsyncIterator[Fetcher]:
    """A Fetcher whose connections are closed when the block ends."""
    client = httpx.AsyncClient(
        headers={"User-Agent": policy.user_agent},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        limits=httpx.Limits(max_connections=policy.concurrency),
        follow_redirects=False,  # each hop is checked by Fetcher before it is followed
        trust_env=False,  # a proxy from the environment would bypass the private-address guard
    )
    async with client:
        yield Fetcher(client, policy)


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


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


async def _refuse_private(url: httpx.URL) -> None:
    host = url.host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, _port(url), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise FetchError(
            f"could not resolve host {host!r} ({exc.strerror}); check the URL in sources.yaml"
        ) from None
    except UnicodeError:
        raise FetchError(f"{host!r} is not a valid host name; fix it in sources.yaml") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if kind := _private_kind(address):
            raise FetchError(
                f"refused to fetch {url}: {host} resolves to {address}, a {kind} address; "
                f"if this source really lives on your network, add {host!r} to "
                "crawl.allowed_hosts in digest.toml"
            )


def _private_kind(address: IPAddress) -> str | None:
    """What makes `address` off limits to a crawler, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _private_kind(embedded)
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address in _CGNAT, "carrier-grade NAT"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-public"),
    )
    return next((kind for blocked, kind in checks if blocked), None)


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    said = f"{url} answered {status} {response.reason_phrase}".rstrip()
    if status in (401, 403):
        hint = "the site refuses us; it may block crawlers or need a login"
    elif status in (404, 410):
        hint = "the feed may have moved — find its new address and update sources.yaml"
    elif status == 429:
        hint = "the site is rate-limiting us; try again later"
    elif status >= 500:
        hint = "the site has a problem on its side; try again later"
    else:
        hint = "check the URL in sources.yaml"
    raise FetchError(f"{said}; {hint}")


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(
                f"{url} is larger than {_size(max_bytes)}; raise crawl.max_bytes in digest.toml "
                "if this feed is legitimate"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _size(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def _explain(exc: httpx.HTTPError, url: httpx.URL, policy: FetchPolicy) -> FetchError:
    """A FetchError that tells a person what went wrong with `url` and what to try."""
    where = f"{url.host}:{_port(url)}"
    causes = _causes(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError(
            f"timed out connecting to {where} after {policy.connect_timeout:g} s — "
            "is the site down? Try again later or check the URL in sources.yaml"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return FetchError(
            f"{where} sent nothing for {policy.read_timeout:g} s while serving {url}; "
            "try again later or raise crawl.read_timeout in digest.toml"
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return FetchError(
            f"connection refused by {where} — is the site down? Check the URL in sources.yaml"
        )
    if cert := next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None):
        return FetchError(
            f"the TLS certificate of {url.host} is not valid ({cert.verify_message}); "
            "the site is misconfigured or someone is intercepting the connection"
        )
    if isinstance(exc, httpx.ConnectError):
        return FetchError(
            f"could not connect to {where} ({causes[-1]}) — is the site down? "
            "Check the URL in sources.yaml"
        )
    if isinstance(exc, httpx.DecodingError):
        return FetchError(f"{url} sent a body that could not be decompressed ({exc}); try later")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError(f"{where} broke the HTTP protocol while serving {url} ({exc})")
    return FetchError(f"could not fetch {url} ({type(exc).__name__}: {exc}); try again later")


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
