"""sources.yaml: the source kinds the crawl knows, and the reading of the file against them."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from digest.crawl.kind import SOURCE_KINDS, SourceEntry, SourceKind
from digest.errors import ConfigError
from digest.models import Source

_CRAWL = "digest.crawl"


@cache
def _import_kind_modules() -> None:
    """Import every module of digest/crawl, so that each kind module files its KIND: a new
    kind is a new module, listed nowhere else."""
    package = importlib.import_module(_CRAWL)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{_CRAWL}.{module.name}")


def source_kind(name: str) -> SourceKind | None:
    """The kind `kind: name` declares: a module of digest/crawl or an installed plugin's."""
    _import_kind_modules()
    return SOURCE_KINDS.get(name)


def source_kinds() -> dict[str, SourceKind]:
    """Every kind a source may name, by name."""
    _import_kind_modules()
    return SOURCE_KINDS.known()


@cache
def _entry_adapter(entries: tuple[type[SourceEntry], ...]) -> TypeAdapter[Any]:
    """One discriminated union of the kinds' entries, so that pydantic names the fault in place."""
    union: Any = Union[entries]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="kind")])


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_sources(path: Path, base: str | None = None) -> list[Source]:
    """Read and validate sources.yaml; `{base}` in URLs is replaced by `base` when given."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
        raise ConfigError(f"{path}: expected a top-level 'sources:' list")
    kinds = source_kinds()
    entries = _entry_adapter(tuple(k.entry for k in kinds.values()))
    sources: list[Source] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["sources"]):
        label = item.get("name") if isinstance(item, dict) and item.get("name") else f"#{i + 1}"
        if isinstance(item, dict) and base is not None and isinstance(item.get("url"), str):
            item = {**item, "url": item["url"].replace("{base}", base.rstrip("/"))}
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind is not None and kind not in kinds:
            raise ConfigError(
                f"{path}: source {label!r}: kind: unknown kind {kind!r}; "
                f"use one of: {', '.join(sorted(kinds))}"
            )
        try:
            entry = entries.validate_python(item)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_where(_field_loc(e['loc'], kind))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{path}: source {label!r}: {problems}") from exc
        if entry.name in seen:
            raise ConfigError(f"{path}: source {label!r}: name is used twice; names must be unique")
        seen.add(entry.name)
        sources.append(entry.source(path.parent))
    return sources


def _field_loc(loc: tuple[int | str, ...], kind: object) -> tuple[int | str, ...]:
    """The field's place in the entry, without the kind pydantic puts in front of it."""
    return loc[1:] if loc and loc[0] == kind else loc
