"""What a source kind declares (its entry in sources.yaml and its reader), and the kinds known."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from digest.crawl.visit import Visit
from digest.models import Article, Source
from digest.registry import Registry

Reader = Callable[[Visit, Source], Awaitable[Sequence[Article]]]


def _http_url(v: str) -> str:
    if not v.startswith(("http://", "https://")):
        raise ValueError(f"{v!r} is not an http(s) URL")
    return v


class SourceEntry(BaseModel):
    """What every entry of sources.yaml may say; each kind's entry adds its own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    weight: float = Field(1.0, ge=0, le=10)
    tags: tuple[str, ...] = ()
    interval_minutes: float = Field(60.0, gt=0, le=7 * 24 * 60)
    max_items: int = Field(200, ge=1, le=10_000)
    full_text: bool = False
    general: bool = False
    type: Literal["first-party", "paper", "press", "community", "aggregator", ""] = ""
    family: str = ""

    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v) if v else v

    def source(self, root: Path) -> Source:
        """The Source this entry declares; `root` is the folder relative paths start from."""
        common = {
            "name",
            "kind",
            "url",
            "weight",
            "tags",
            "interval_minutes",
            "full_text",
            "general",
            "type",
            "family",
        }
        params: dict[str, Any] = {
            k: v for k, v in self.model_dump().items() if k not in common and v is not None
        }
        if isinstance(params.get("path"), Path) and not params["path"].is_absolute():
            params["path"] = root / params["path"]
        return Source(
            name=self.name,
            kind=getattr(self, "kind"),  # noqa: B009 - every subclass declares it
            url=getattr(self, "url", "") or "",
            weight=self.weight,
            tags=self.tags,
            interval=self.interval_minutes * 60,
            full_text=self.full_text,
            general=self.general,
            type=self.type,
            family=self.family,
            params=params,
        )


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: the `kind:` name, its sources.yaml entry, and the reader that
    fetches and parses it. Each kind's module declares one as KIND."""

    name: str
    entry: type[SourceEntry]
    read: Reader


# Filled by the kind modules of digest/crawl as they are imported, and by installed packages
# through the entry point group (`[project.entry-points."digest.source_kinds"]
# mine = "pkg.mod:KIND"`, a SourceKind).
SOURCE_KINDS: Registry[SourceKind] = Registry("digest.source_kinds")


def declare(name: str, entry: type[SourceEntry], read: Reader) -> SourceKind:
    """The kind `name`, filed in SOURCE_KINDS: a kind module's `KIND = declare(...)`."""
    return SOURCE_KINDS.add(name, SourceKind(name, entry, read))
