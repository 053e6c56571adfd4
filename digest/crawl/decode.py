"""Content-Encoding decoders that stop at a size cap, so a compression bomb never inflates."""

from __future__ import annotations

import sys
import zlib
from typing import Protocol

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# What we ask servers for; an answer in any other encoding is refused.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


class TooLarge(Exception):
    """The decoded body passed the cap; `head` is what of the last chunk fits under it."""

    def __init__(self, head: bytes = b"") -> None:
        super().__init__()
        self.head = head


class _Decoder(Protocol):
    def decode(self, data: bytes, limit: int) -> bytes: ...


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._d = zlib.decompressobj(wbits)

    def decode(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        while data:
            chunk = self._d.decompress(data, limit - len(out) + 1)
            out += chunk
            if len(out) > limit:
                raise TooLarge(bytes(out))
            data = self._d.unconsumed_tail
            if self._d.eof:  # a second gzip member follows the first
                data = self._d.unused_data
                self._d = zlib.decompressobj(self._wbits)
        return bytes(out)


class _Deflate(_Zlib):
    """`deflate` is meant to be zlib-wrapped, but some servers send raw deflate."""

    def __init__(self) -> None:
        super().__init__(zlib.MAX_WBITS)
        self._first = True

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._first and data:
            self._first = False
            try:
                zlib.decompressobj().decompress(data[:2])
            except zlib.error:
                self._wbits = -zlib.MAX_WBITS
                self._d = zlib.decompressobj(self._wbits)
        return super().decode(data, limit)


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        out = bytearray(self._d.process(data, output_buffer_limit=limit + 1))
        while len(out) <= limit and not self._d.can_accept_more_data():
            out += self._d.process(b"", output_buffer_limit=limit - len(out) + 1)
        if len(out) > limit:
            raise TooLarge(bytes(out))
        return bytes(out)


class _Zstd:
    def __init__(self) -> None:
        self._d = zstd.ZstdDecompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        while True:
            if self._d.eof:  # frames may follow one another
                data = self._d.unused_data + data
                self._d = zstd.ZstdDecompressor()
                if not data:
                    break
            out += self._d.decompress(data, limit - len(out) + 1)
            data = b""
            if len(out) > limit:
                raise TooLarge(bytes(out))
            if self._d.needs_input and not self._d.eof:
                break
        return bytes(out)


def _decoder(name: str) -> _Decoder | None:
    match name:
        case "gzip" | "x-gzip":
            return _Zlib(zlib.MAX_WBITS | 16)
        case "deflate":
            return _Deflate()
        case "br":
            return _Brotli()
        case "zstd":
            return _Zstd()
    return None


class BodyDecoder:
    """Undoes a Content-Encoding chain piece by piece; raises TooLarge past `limit` bytes."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        self._limit = limit
        self._size = 0
        self._chain: list[_Decoder] = []
        for name in reversed(names):  # the last encoding applied is undone first
            decoder = _decoder(name)
            if decoder is None:
                raise ValueError(name)
            self._chain.append(decoder)

    def decode(self, data: bytes) -> bytes:
        """The decoded bytes of the next raw chunk."""
        over = False
        for decoder in self._chain:
            try:
                data = decoder.decode(data, self._limit - self._size)
            except TooLarge as exc:  # what came out so far still goes through the rest
                data, over = exc.head, True
        room = self._limit - self._size
        self._size += len(data)
        if over or self._size > self._limit:
            raise TooLarge(data[:room])
        return data


# Magic numbers no text starts with; brotli has none, so it is never guessed.
_MAGIC = ((b"\x1f\x8b\x08", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"))


def sniffed_encoding(body: bytes) -> str:
    """The compression a body is still in though its Content-Encoding did not say so
    (a misconfigured server, a pre-compressed file served as is), or ""."""
    return next((name for magic, name in _MAGIC if body.startswith(magic)), "")
