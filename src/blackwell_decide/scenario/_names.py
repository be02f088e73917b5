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


def engine_name(r: TableReader, path: str, name: str | None) -> str | None:
    """An engine name the performance model knows (lower-cased), or None with a problem."""
    if name is None:
        return None
    # ENGINE REGISTRY SEAM: the one place a scenario learns the known serving engines; swap this
    # closed list for the engine registry (issue 11 item 3) here and nowhere else.
    from blackwell_decide.perf.profile import ENGINES

    lowered = name.lower().replace("tensorrt-llm", "trtllm").replace("tensorrt_llm", "trtllm")
    if lowered in ENGINES:
        return lowered
    near = nearest_match(lowered, ENGINES)
    hint = f"did you mean {near!r}? " if near else ""
    r.problem(path, f"unknown serving engine {name!r}; {hint}known engines: {', '.join(ENGINES)}")
    return None
