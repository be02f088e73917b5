"""Typed registries that plugins fill through their hooks.

A registry knows which plugin added each entry, so a duplicate key or an invalid entry can be
reported with the plugin's name, and ``blackwell-decide plugins`` can list what each one added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import attrs

from blackwell_decide.errors import UnknownKeyError

T = TypeVar("T")


@attrs.frozen
class PluginProblem:
    """Something a plugin did wrong; the rest of the catalog still works."""

    plugin: str
    message: str


class Registry(Generic[T]):
    """Entries of one kind, keyed case-insensitively, with aliases.

    ``kind`` is the word used in messages ("accelerator", "model"); ``item_type`` guards against a
    plugin registering the wrong kind of object (a class, or a runtime-checkable protocol where the
    entries' class lives in a layer above the registry's user); ``key_of`` and ``aliases_of`` read
    an entry's key and alternative names.
    """

    def __init__(
        self,
        kind: str,
        item_type: type[object],  # not type[T]: mypy accepts no protocol there, and T is bound by key_of
        key_of: Callable[[T], str],
        aliases_of: Callable[[T], Iterable[str]] = lambda _item: (),
    ) -> None:
        self.kind = kind
        self.item_type = item_type
        self._key_of = key_of
        self._aliases_of = aliases_of
        self._items: dict[str, T] = {}
        self._owner: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self.problems: list[PluginProblem] = []
        self.current_plugin = "(direct)"

    def add(self, item: T) -> None:
        """Register ``item`` on behalf of the plugin whose hook is running.

        A wrong type or a key another plugin already registered becomes a :class:`PluginProblem`
        (the first registration wins); it never stops the other plugins.
        """
        plugin = self.current_plugin
        if not isinstance(item, self.item_type):
            self.problems.append(
                PluginProblem(
                    plugin,
                    f"registered a {type(item).__name__} as a {self.kind}; expected {self.item_type.__name__}",
                )
            )
            return
        key = self._key_of(item).lower()
        if key in self._items:
            self.problems.append(
                PluginProblem(
                    plugin,
                    f"{self.kind} {key!r} is registered by both {self._owner[key]!r} and {plugin!r}; "
                    f"keeping the one from {self._owner[key]!r}",
                )
            )
            return
        self._items[key] = item
        self._owner[key] = plugin
        taken = {_normalise(k): k for k in self._items if k != key}
        for alias in self._aliases_of(item):
            spelled = _normalise(alias)
            # A spelling that already means another entry (its key or an alias: "B-200" for b200)
            # keeps that meaning: the first registration wins, and built-ins register first.
            holder = taken.get(spelled) or self._aliases.get(spelled)
            if holder is None:
                self._aliases[spelled] = key
            elif holder != key and self._owner[holder] != plugin:
                self.problems.append(
                    PluginProblem(
                        plugin,
                        f"{self.kind} {key!r}: alias {alias!r} already means {holder!r} "
                        f"(registered by {self._owner[holder]!r}); alias refused",
                    )
                )

    def remove(self, name: str) -> None:
        """Drop an entry found invalid after every hook ran (and the aliases pointing at it)."""
        key = self.resolve(name)
        del self._items[key]
        del self._owner[key]
        self._aliases = {alias: k for alias, k in self._aliases.items() if k != key}

    def update(self, name: str, item: T) -> None:
        """Swap in a corrected entry under the same key and owner (used by the facade after
        cross-registry checks, for instance to resolve a price quote's GPU alias)."""
        self._items[self.resolve(name)] = item

    def resolve(self, name: str) -> str:
        """The canonical key for ``name`` (a key or an alias, any case); raises UnknownKeyError."""
        lowered = name.strip().lower()
        if lowered in self._items:
            return lowered
        alias = self._aliases.get(_normalise(name))
        if alias is not None:
            return alias
        raise UnknownKeyError(self.kind, name, self._items)

    def get(self, name: str) -> T:
        return self._items[self.resolve(name)]

    def owner(self, name: str) -> str:
        return self._owner[self.resolve(name)]

    def keys(self) -> list[str]:
        return list(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def by_plugin(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for key, plugin in self._owner.items():
            grouped.setdefault(plugin, []).append(key)
        return grouped

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lowered = name.strip().lower()
        return lowered in self._items or _normalise(name) in self._aliases

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)


def _normalise(name: str) -> str:
    """Aliases match ignoring case, spaces, dashes and underscores ("HGX B200" == "hgx-b200")."""
    return "".join(ch for ch in name.lower() if ch.isalnum())
