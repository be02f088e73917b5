"""Names a scenario gives (accelerators, formats, models, price snapshots, serving engines), checked
against the catalog and the performance model, each unknown one reported with the nearest known."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide.errors import nearest_match
from blackwell_decide.input_schema import TableReader

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


class CatalogCheck:
    """Checks names against the catalog, naming the nearest known key."""

    def __init__(self, reader: TableReader, catalog: Catalog) -> None:
        self.r = reader
        self.catalog = catalog

    def key(self, registry_name: str, path: str, name: str | None, listing: str) -> str | None:
        if name is None:
            return None
        registry = self.catalog.registries()[registry_name]
        if name in registry:
            return registry.resolve(name)
        near = nearest_match(name, registry.keys())
        hint = f"did you mean {near!r}? " if near else ""
        self.r.problem(path, f"unknown {registry.kind} {name!r}; {hint}see `blackwell-decide {listing}`")
        return None

    def engine(self, path: str, name: str | None) -> str | None:
        """A registered serving engine's key (a key or an alias: "TensorRT-LLM" is trtllm), or
        None with a problem naming the nearest and the known engines."""
        if name is None:
            return None
        engines = self.catalog.engines
        if name in engines:
            return engines.resolve(name)
        known = engines.keys()
        near = nearest_match(name.lower(), known)
        hint = f"did you mean {near!r}? " if near else ""
        self.r.problem(path, f"unknown serving engine {name!r}; {hint}known engines: {', '.join(known)}")
        return None
