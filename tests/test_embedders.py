"""Embedding backends: the ONNX int8 export against sentence-transformers, and bad choices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from digest.analyze.embed import SentenceTransformerEmbedder, make_embedder
from digest.analyze.embed_onnx import OnnxInt8Embedder, cache_dir
from digest.config import EmbedSettings
from digest.errors import AnalyzeError

TEXTS = [
    "Qwen3-Coder-480B released with open weights",
    "Alibaba opens the weights of its 480B coding model, Qwen3-Coder, to everyone today",
    "EU AI Act: fines of up to 7% of turnover start in August",
    "A city council approved new bike lanes after a long debate about parking on the main road",
    "GPU",
    "NVIDIA ships the H200 in volume; cloud providers say capacity doubles by spring",
]


@pytest.mark.slow
def test_onnx_int8_agrees_with_torch_and_is_exported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    onnx = OnnxInt8Embedder()
    exported = list(cache_dir().rglob("*.onnx"))
    assert len(exported) == 1 and exported[0].is_relative_to(tmp_path)
    stamp = exported[0].stat().st_mtime_ns
    ours = onnx.embed(TEXTS)
    torch = SentenceTransformerEmbedder(device="cpu").embed(TEXTS)
    assert ours.shape == torch.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert ((ours * torch).sum(axis=1) > 0.97).all()
    same_event = ours[0] @ ours[1]
    assert same_event > ours[0] @ ours[3] and same_event > ours[0] @ ours[2]
    again = OnnxInt8Embedder()
    assert again.name == onnx.name != "all-MiniLM-L6-v2"
    assert exported[0].stat().st_mtime_ns == stamp
    # A text's vector does not depend on the texts embedded with it.
    assert np.allclose(again.embed(TEXTS[3:1:-1]), ours[[3, 2]], atol=1e-6)


def test_onnx_backend_refuses_a_model_it_would_pool_wrongly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "cls-model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "modules.json").write_text(
        json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    )
    (model / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    with pytest.raises(AnalyzeError, match="mean pooling"):
        OnnxInt8Embedder(str(model))
    with pytest.raises(AnalyzeError, match="pooling layer"):
        OnnxInt8Embedder(str(tmp_path))
    assert not (tmp_path / "cache").exists()


def test_unknown_backend_is_refused_by_name() -> None:
    # digest.toml names any backend (a package may register it); making it refuses an unknown one.
    settings = EmbedSettings(backend="tensorflow")
    with pytest.raises(AnalyzeError, match="'tensorflow': 'torch' or 'onnx-int8'"):
        make_embedder(backend=settings.backend)
