"""The private-address guard: a network backend that resolves, vets and connects in one step."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore

from digest.errors import FetchError

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(FetchError):
    """A host resolved to, or connected to, an address a crawler must never reach."""


def private_kind(address: IPAddress) -> str | None:
    """What makes `address` off limits to a crawler, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return private_kind(embedded)
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


def _blocked(host: str, address: IPAddress, kind: str) -> BlockedAddress:
    return BlockedAddress(f"{host} resolves to {address}, a {kind} address")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to public addresses.

    The host is resolved here, every address it resolves to is vetted, and the connection is
    made to a vetted address, so a second DNS answer (rebinding) can never be used; the peer
    address of the connected socket is checked once more. TLS still verifies the host name,
    because httpcore starts TLS with the original host as server name.
    """

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await vetted_addresses(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            connected = ipaddress.ip_address(peer[0]) if peer else None
            kind = private_kind(connected) if connected else "unknown"
            if connected is None or kind is not None:
                await stream.aclose()
                raise _blocked(host, connected or address, kind or "unknown")
            return stream
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(f"refused to connect to the unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def vetted_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, once none of them is off limits."""
    bare = host.strip("[]")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(
            f"could not resolve host {bare!r} ({exc.strerror}); check the URL in sources.yaml"
        ) from None
    except UnicodeError:
        raise FetchError(f"{bare!r} is not a valid host name; fix it in sources.yaml") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if kind := private_kind(address):
            raise _blocked(bare, address, kind)
        if address not in addresses:
            addresses.append(address)
    return addresses
