"""Prompt templates, one per section: the user's folder first, the packaged ones second."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)

from digest.errors import ConfigError
from digest.models import Article

PROMPTS = ("system", "theme", "quick_hit", "paper", "intro")
MAX_ARTICLE_CHARS = 2_000
_MARKERS = re.compile(r"<<<|>>>")


def untrusted_block(number: int, article: Article) -> str:
    """One article between markers it cannot forge, labelled as data from a third party."""
    body = _MARKERS.sub("", f"{article.title}\n{article.summary}")[:MAX_ARTICLE_CHARS]
    return (
        f"<<<ARTICLE {number}>>> (untrusted data from {_MARKERS.sub('', article.source)})\n"
        f"{body}\n<<<END ARTICLE {number}>>>"
    )


def sources_block(numbered: Sequence[tuple[int, Article]]) -> str:
    return "\n\n".join(untrusted_block(n, a) for n, a in numbered)


class Prompts:
    """Renders the section prompts; a file in the user's folder replaces the packaged one."""

    def __init__(self, user_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if user_dir is not None and user_dir.is_dir():
            loaders.append(FileSystemLoader(user_dir))
        loaders.append(PackageLoader("digest.write", "prompts"))
        self._env = Environment(
            loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=False
        )

    def render(self, name: str, **context: Any) -> str:
        try:
            return self._env.get_template(f"{name}.md").render(**context).strip()
        except TemplateError as exc:
            raise ConfigError(
                f"prompt template {name}.md could not be rendered ({exc}); fix it in your "
                "[writer] prompts folder, or delete it there to use the packaged one"
            ) from exc
