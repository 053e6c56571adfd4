"""A response body read within the size cap: decompressed as it arrives, refused or cut past it."""

from __future__ import annotations

import httpx

from digest.crawl.decode import BodyDecoder, TooLarge, sniffed_encoding
from digest.errors import FetchError


async def read_capped(response: httpx.Response, limit: int, url: str, cut: bool) -> bytes:
    """The decoded body, at most `limit` bytes of it: past that, FetchError, or with `cut`
    the first `limit` bytes (robots.txt is read that way)."""
    encoding = response.headers.get("content-encoding", "")
    decoder = _decoder(encoding, limit, url)
    length = response.headers.get("content-length", "")
    if not cut and not encoding and length.isdigit() and int(length) > limit:
        raise too_large(url, limit)
    chunks: list[bytes] = []
    try:
        async for raw in response.aiter_raw():
            chunks.append(decoder.decode(raw))
    except TooLarge as exc:
        if not cut:
            raise too_large(url, limit) from None
        chunks.append(exc.head)
    except Exception as exc:
        if isinstance(exc, httpx.HTTPError):
            raise
        raise _undecodable(url, exc) from None
    return _unwrapped(b"".join(chunks), limit, url, cut)


def _unwrapped(body: bytes, limit: int, url: str, cut: bool) -> bytes:
    """The body decompressed once more when it is still gzip or zstd, under the same cap."""
    name = sniffed_encoding(body)
    if not name:
        return body
    try:
        return _decoder(name, limit, url).decode(body)
    except TooLarge as exc:
        if not cut:
            raise too_large(url, limit) from None
        return exc.head
    except Exception as exc:
        raise _undecodable(url, exc) from None


def _decoder(encoding: str, limit: int, url: str) -> BodyDecoder:
    try:
        return BodyDecoder(encoding, limit)
    except ValueError as exc:
        raise FetchError(
            f"{url} was sent in the {exc} encoding, which digest does not read; "
            "the site ignores the encodings we ask for"
        ) from None


def _undecodable(url: str, exc: Exception) -> FetchError:
    return FetchError(f"{url} sent a body that could not be decompressed ({exc}); try again later")


def too_large(url: str, max_bytes: int) -> FetchError:
    """The error for a body past crawl.max_bytes."""
    return FetchError(
        f"{url} is larger than {_size(max_bytes)}; raise crawl.max_bytes in digest.toml "
        "if this source is legitimate"
    )


def _size(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"
