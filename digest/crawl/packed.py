"""Articles parsed in a worker process, kept pickled until someone reads them."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from typing import overload

from digest.models import Article


class PackedArticles(Sequence[Article]):
    """A source's articles as one pickled blob, unpickled on first read.

    A big crawl parses in worker processes and stores in another process; the process in
    between only counts the articles. Unpickling ~50,000 articles there and pickling them again
    for the storing process cost it seconds of CPU beside its event loop; a blob of bytes
    passes through for the price of a copy.
    """

    def __init__(self, blob: bytes, count: int) -> None:
        self._blob = blob
        self._count = count
        self._articles: tuple[Article, ...] | None = None

    @classmethod
    def pack(cls, articles: Sequence[Article]) -> PackedArticles:
        return cls(pickle.dumps(tuple(articles), protocol=pickle.HIGHEST_PROTOCOL), len(articles))

    def __reduce__(self) -> tuple[type[PackedArticles], tuple[bytes, int]]:
        return PackedArticles, (self._blob, self._count)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Article: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Article]: ...

    def __getitem__(self, index: int | slice) -> Article | Sequence[Article]:
        return self._unpacked()[index]

    def __iter__(self) -> Iterator[Article]:
        return iter(self._unpacked())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self._unpacked() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._unpacked())

    def _unpacked(self) -> tuple[Article, ...]:
        if self._articles is None:
            articles = pickle.loads(self._blob)
            if not isinstance(articles, tuple):
                raise TypeError(f"a packed blob holds {type(articles).__name__}, not articles")
            self._articles = articles
        return self._articles
