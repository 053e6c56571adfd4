"""Sentence vectors for one issue: each distinct text embedded once, many at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from digest.write.writer import EmbedTexts


class SentenceVectors:
    """An EmbedTexts that remembers: a text asked for twice is embedded once.

    `prefetch` embeds many texts in one call, so that the embedder batches them by length
    instead of running one small batch per story.
    """

    def __init__(self, embed: EmbedTexts) -> None:
        self._embed = embed
        self._vectors: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Iterable[str]) -> None:
        new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            self._vectors.update(zip(new, self._embed(new), strict=True))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.prefetch(texts)
        return np.vstack([self._vectors[t] for t in texts])

    def __len__(self) -> int:
        return len(self._vectors)


def remembering(embed: EmbedTexts) -> SentenceVectors:
    """`embed` itself when it already remembers, else it wrapped to remember."""
    return embed if isinstance(embed, SentenceVectors) else SentenceVectors(embed)
