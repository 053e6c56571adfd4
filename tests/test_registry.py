"""Backends are found by name: a built-in, one a package registers, or a clear refusal."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest

from digest import registry
from digest.analyze import EMBEDDERS, make_embedder
from digest.config import ExecutorSettings
from digest.errors import AnalyzeError, ConfigError
from digest.pipeline.executors import EXECUTORS, LOCAL, executor_for


class HashEmbedder:
    name = "hash"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_an_embedder_a_package_declares_is_found_by_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point = SimpleNamespace(name="hash", load=lambda: lambda model, device, size: HashEmbedder())
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    monkeypatch.setattr(EMBEDDERS, "_entries", dict(EMBEDDERS._entries))
    monkeypatch.setattr(EMBEDDERS, "_plugins_loaded", False)
    assert make_embedder(backend="hash").name == "hash"
    with pytest.raises(AnalyzeError, match="'torch', 'onnx-int8' or 'hash'"):
        make_embedder(backend="tensorflow")


def test_executors_are_found_by_name() -> None:
    assert executor_for(ExecutorSettings()) is LOCAL
    assert EXECUTORS.choices() == "'local' or 'ray'"
    with pytest.raises(ConfigError, match="'local' or 'ray'"):
        executor_for(ExecutorSettings.model_construct(kind="dask"))
