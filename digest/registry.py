"""Backends found by name: one registry per kind of backend, filled by built-ins and plugins."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to factories. Built-ins register on import; a package adds one through the entry
    point group (`[project.entry-points."digest.embedders"] mine = "pkg.mod:factory"`)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._entries: dict[str, T] = {}
        self._plugins_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator that files the factory under `name`."""

        def add(factory: T) -> T:
            self._entries[name] = factory
            return factory

        return add

    def get(self, name: str) -> T | None:
        """The factory filed under `name`, looking at installed plugins once; None when none."""
        if name not in self._entries and not self._plugins_loaded:
            self._plugins_loaded = True
            for point in entry_points(group=self.group):
                self._entries.setdefault(point.name, point.load())
        return self._entries.get(name)

    def choices(self) -> str:
        """The names known, for an error message: "'a', 'b' or 'c'"."""
        names = [repr(n) for n in self._entries]
        return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"
