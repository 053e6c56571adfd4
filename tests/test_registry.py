"""Backends are found by name: a built-in, one a package registers, or a clear refusal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from digest import registry
from digest.analyze import EMBEDDERS, make_embedder
from digest.config import ExecutorSettings, load_settings
from digest.errors import AnalyzeError, ConfigError
from digest.pipeline import make_writer
from digest.pipeline.executors import EXECUTORS, LOCAL, executor_for
from digest.pipeline.writing import WRITERS
from digest.write import NoCache


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


def test_a_writer_a_package_declares_is_named_in_digest_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = object()
    point = SimpleNamespace(name="plain", load=lambda: lambda w, fallback, cache: (plain, None))
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [point] if group == WRITERS.group else []
    )
    monkeypatch.setattr(WRITERS, "_entries", dict(WRITERS._entries))
    monkeypatch.setattr(WRITERS, "_plugins_loaded", False)
    toml = tmp_path / "digest.toml"
    toml.write_text('[writer]\nbackend = "plain"\n[embed]\nbackend = "hash"\n')
    settings = load_settings(toml)  # names a package registers are not refused here
    assert make_writer(settings, None, NoCache()) == (plain, None)  # type: ignore[arg-type]

    toml.write_text('[writer]\nbackend = "gpt"\n')
    with pytest.raises(
        ConfigError, match="'gpt' is unknown; use 'extractive', 'plain', 'openai' or 'anthropic'"
    ):
        make_writer(load_settings(toml), None, NoCache())  # type: ignore[arg-type]
