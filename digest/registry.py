"""Backends found by name: one registry per kind of backend, filled by built-ins and plugins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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

    def add(self, name: str, entry: T) -> T:
        """File `entry` under `name`, and return it."""
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator that files the factory under `name`."""
        return lambda factory: self.add(name, factory)

    def get(self, name: str) -> T | None:
        """The factory filed under `name`, looking at installed plugins once; None when none."""
        if name not in self._entries:
            self._load_plugins()
        return self._entries.get(name)

    def known(self) -> dict[str, T]:
        """Every name known and its factory: the built-ins, then the installed plugins'."""
        self._load_plugins()
        return dict(self._entries)

    def choices(self) -> str:
        """The names known, for an error message: "'a', 'b' or 'c'"."""
        return one_of(self.known())

    def _load_plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            for point in entry_points(group=self.group):
                self._entries.setdefault(point.name, point.load())


def one_of(names: Iterable[str]) -> str:
    """Names for an error message: "'a', 'b' or 'c'"."""
    quoted = [repr(n) for n in names]
    return " or ".join(quoted) if len(quoted) < 3 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
