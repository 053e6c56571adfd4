"""crawl.allowed_hosts: which private origin (scheme, host, port) a source may reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """Where a request goes: scheme, host (lowercase, IPv6 without brackets) and port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def origin_of(url: str | httpx.URL) -> Origin | None:
    """The origin of an http(s) URL; None for any other URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        return None
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    return Origin(parsed.scheme, parsed.host.lower(), port)


@dataclass(frozen=True)
class Allowance:
    """One entry of crawl.allowed_hosts: a whole origin, or a bare host (any scheme and port,
    taken from the URL of the source that lives there)."""

    host: str
    origin: Origin | None = None  # None for a bare host

    def opens(self, origin: Origin) -> bool:
        """True when this entry lets a source whose own URL is at `origin` reach it."""
        return origin == self.origin if self.origin else origin.host == self.host


@cache
def parse_allowance(entry: str) -> Allowance:
    """An entry of crawl.allowed_hosts; ValueError says what is wrong with it."""
    text = entry.strip().lower()
    if "://" not in text:
        host = text.strip("[]")
        if not host or any(c in host for c in "/?#@ ") or (host.count(":") == 1):
            raise ValueError(
                f"{entry!r} is neither a host name nor an origin; write a host such as "
                "'127.0.0.1' or an origin such as 'http://127.0.0.2:8080'"
            )
        return Allowance(host)
    origin = origin_of(text)
    parsed = httpx.URL(text) if origin else None
    if origin is None or parsed is None or parsed.path not in ("", "/") or parsed.query:
        raise ValueError(
            f"{entry!r} is not an origin; write scheme, host and port only, "
            "such as 'http://127.0.0.2:8080'"
        )
    return Allowance(origin.host, origin)


def private_origin(source_url: str, allowed: Iterable[str]) -> Origin | None:
    """The origin of `source_url` when an entry of crawl.allowed_hosts opens it, else None.

    A source may reach a private or loopback address only at the origin of its own URL, and
    only when an entry names that origin (or its host); never by a redirect elsewhere, and
    never on behalf of another source.
    """
    origin = origin_of(source_url)
    if origin is None:
        return None
    return origin if any(parse_allowance(e).opens(origin) for e in allowed) else None
