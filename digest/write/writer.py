"""The Writer protocol: what turns ranked themes and stories into cited text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from digest.models import Note, Section, Story, Theme

EmbedTexts = Callable[[Sequence[str]], np.ndarray]


class Writer(Protocol):
    """Turns ranked themes and stories into cited text. One writer writes one issue."""

    def section(self, theme: Theme) -> Section: ...

    def quick_hit(self, story: Story) -> Note | None: ...

    def paper(self, story: Story) -> Note | None: ...

    def intro(self, sections: Sequence[Section], quick_hits: int, papers: int = 0) -> str: ...
