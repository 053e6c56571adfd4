"""Embedders: the protocol, the sentence-transformers backend, and the per-content-hash cache."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from digest.analyze.weights import PACKAGED_MODEL, model_path
from digest.errors import AnalyzeError
from digest.models import Article
from digest.registry import Registry

# Title plus the start of the summary (bench/embed_text.py, story BCubed F1): the sample week
# 0.862 for the title alone, 0.968 with 150 characters, 1.000 from 300 on. The whole text
# (the model's 256 tokens) costs about four times the time per text for no gain there.
LEDE_CHARS = 300


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` keys the cache."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class VectorCache(Protocol):
    """Where vectors are kept between runs (the store implements it)."""

    def vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...


def embedding_text(article: Article, lede_chars: int = LEDE_CHARS) -> str:
    """What is embedded for an article: its title and the first words of its summary."""
    lede = article.summary[:lede_chars]
    if len(article.summary) > lede_chars and " " in lede:
        lede = lede.rsplit(" ", 1)[0]
    return f"{article.title}. {lede}".strip() if lede else article.title


def text_hash(text: str) -> str:
    """The cache key of a text: the same text is never embedded twice by the same model."""
    return hashlib.sha256(text.encode()).hexdigest()


def pick_device(requested: str, cuda_available: bool | None = None) -> str:
    """'auto' means CUDA when torch sees a GPU, else CPU; asking for CUDA without one fails."""
    if cuda_available is None:
        import torch

        cuda_available = bool(torch.cuda.is_available())
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    if requested == "cuda" and not cuda_available:
        raise AnalyzeError("[embed] device is 'cuda' but torch sees no GPU; set device = 'auto'")
    return requested


def half_precision(device: str) -> bool:
    """fp16 on a GPU (about twice the throughput); fp32 on the CPU, where fp16 is slow."""
    return device.startswith("cuda")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline, on CUDA (fp16) when present."""

    def __init__(self, model: str = PACKAGED_MODEL, device: str = "auto", batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise AnalyzeError(
                "embedding needs sentence-transformers: pip install 'digest[embed]'"
            ) from exc
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self.name = model
        self.device = pick_device(device)
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(model_path(model), device=self.device)
        except OSError as exc:
            raise AnalyzeError(
                f"cannot load embedding model {model!r} ({exc}); set [embed] model in digest.toml "
                "to a local path or an installed model"
            ) from exc
        if half_precision(self.device):
            self._model.half()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # encode() sorts the texts by length before batching, so padding stays short.
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


EmbedderFactory = Callable[[str, str, int], Embedder]  # (model, device, batch size)
EMBEDDERS: Registry[EmbedderFactory] = Registry("digest.embedders")


@EMBEDDERS.register("torch")
def _torch(model: str, device: str, batch_size: int) -> Embedder:
    """sentence-transformers, CUDA when present."""
    return SentenceTransformerEmbedder(model, device, batch_size)


@EMBEDDERS.register("onnx-int8")
def _onnx_int8(model: str, device: str, batch_size: int) -> Embedder:
    """onnxruntime on the CPU, int8 weights, about twice as fast there."""
    from digest.analyze.embed_onnx import OnnxInt8Embedder

    return OnnxInt8Embedder(model)


def make_embedder(
    model: str = PACKAGED_MODEL, backend: str = "torch", device: str = "auto", batch_size: int = 64
) -> Embedder:
    """The embedder registered as `backend` in EMBEDDERS ("torch" or "onnx-int8" built in)."""
    factory = EMBEDDERS.get(backend)
    if factory is None:
        raise AnalyzeError(f"unknown embedding backend {backend!r}: {EMBEDDERS.choices()}")
    return factory(model, device, batch_size)


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: VectorCache) -> np.ndarray:
    """One unit vector per text, embedding only texts the cache has not seen for this model."""
    hashes = [text_hash(t) for t in texts]
    known = cache.vectors(embedder.name, list(dict.fromkeys(hashes)))
    todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in known}
    if todo:
        fresh = embedder.embed(list(todo.values()))
        new = dict(zip(todo, np.asarray(fresh, dtype=np.float32), strict=True))
        cache.save_vectors(embedder.name, new)
        known.update(new)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([known[h] for h in hashes])


def embed_articles(
    articles: Sequence[Article], embedder: Embedder, cache: VectorCache
) -> np.ndarray:
    """One unit vector per article (rows in article order), from its title and lede."""
    return embed_texts([embedding_text(a) for a in articles], embedder, cache)


class MemoryCache:
    """A vector cache that lives as long as the process (for runs with no store)."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self._vectors[model, h] for h in hashes if (model, h) in self._vectors}

    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        self._vectors.update({(model, h): v for h, v in vectors.items()})
