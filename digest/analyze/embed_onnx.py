"""The ONNX int8 embedder: a sentence-transformers model exported once, quantised and cached."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from digest.analyze.weights import PACKAGED_MODEL, embedder_name, model_path
from digest.errors import AnalyzeError

# Bump when the export or quantisation changes, so that cached files are made anew.
EXPORT_VERSION = 2
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir() -> Path:
    """Where exported models are kept: $XDG_CACHE_HOME/digest/onnx (~/.cache/digest/onnx)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digest" / "onnx"


def _fingerprint(folder: Path) -> str:
    """A key for the model's weights and configuration: a changed model is exported again."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".md"):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def _check_pooling(folder: Path) -> None:
    """The backend pools as all-MiniLM-L6-v2 does: mean over tokens, then unit length."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((folder / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError, TypeError) as exc:
        raise AnalyzeError(
            f"{folder}: not a sentence-transformers model folder with a pooling layer ({exc}); "
            "the onnx-int8 backend needs one"
        ) from exc
    if not config.get("pooling_mode_mean_tokens") or any(
        config.get(f"pooling_mode_{mode}") for mode in ("cls_token", "max_tokens")
    ):
        raise AnalyzeError(
            f"{folder}: the onnx-int8 backend supports mean pooling only; "
            'use [embed] backend = "torch" for this model'
        )


def export_int8(folder: Path, target: Path) -> None:
    """Export the model's transformer to ONNX with torch, then quantise its weights to int8."""
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise AnalyzeError(
            "exporting the onnx-int8 model needs torch, transformers and onnxruntime: "
            "pip install 'digest[embed]'"
        ) from exc
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"{target.stem}.fp32.{os.getpid()}.onnx")
    partial = target.with_name(f"{target.stem}.{os.getpid()}.onnx")

    class Hidden(torch.nn.Module):
        """The transformer with positional inputs and the token states as its one output."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = AutoModel.from_pretrained(str(folder)).eval()

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.transformer(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    sample = tuple(torch.ones((2, 8), dtype=torch.int64) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden().eval(),
                sample,
                str(fp32),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        # Weights of the matrix products only, one scale per output channel: measured on the
        # same texts, pairwise-similarity Spearman 0.995 against fp32 (0.965 when the token
        # embeddings are quantised too, or with one scale per matrix).
        # The quantiser advises a pre-processing pass on the root logger; it changes nothing here.
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(
                str(fp32),
                str(partial),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
            )
        finally:
            root.setLevel(level)
        partial.replace(target)
    finally:
        fp32.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


class OnnxInt8Embedder:
    """A sentence-transformers model run by onnxruntime with int8 weights, on the CPU.

    About twice the throughput of torch fp32 on a CPU; the export (~1 minute) happens once
    per model and is cached in cache_dir().
    """

    def __init__(self, model: str = PACKAGED_MODEL):
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise AnalyzeError(
                "the onnx-int8 backend needs onnxruntime and tokenizers: "
                "pip install 'digest[embed]'"
            ) from exc
        folder = Path(model_path(model))
        if not folder.is_dir():
            raise AnalyzeError(
                f"the onnx-int8 backend needs a local model folder, not {model!r}; "
                'set [embed] model to a path or use backend = "torch"'
            )
        _check_pooling(folder)
        self.name = embedder_name(model, "onnx-int8")
        target = cache_dir() / f"{folder.name}-{_fingerprint(folder)}" / "model.int8.onnx"
        if not target.is_file():
            export_int8(folder, target)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(target), options, providers=["CPUExecutionProvider"]
        )
        self._feeds = [i.name for i in self._session.get_inputs()]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_length(folder))
        self._tokenizer.no_padding()
        self._dimensions = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # One text per run: dynamic quantisation scales the activations of a run by their range,
        # so in a batch a text's vector would depend on its batch mates (cosine down to 0.988
        # between two batchings), and the cache keyed by text would not hold. On 2 cores one
        # text per run measured no slower than batches of 64 (no padding to compute).
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            given = {
                "input_ids": np.asarray([encoding.ids], dtype=np.int64),
                "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
                "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
            }
            (hidden,) = self._session.run(None, {name: given[name] for name in self._feeds})
            pooled = hidden[0].mean(axis=0)
            vectors[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return vectors


def _max_length(folder: Path) -> int:
    """The model's max_seq_length (256 for all-MiniLM-L6-v2), as sentence-transformers reads it."""
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512
