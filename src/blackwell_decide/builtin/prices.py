"""Built-in dated price snapshots (one provider and date each), read from ``data/prices`` with
the public loader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide.builtin._data import data_files
from blackwell_decide.catalog_files import load_price_snapshots
from blackwell_decide.hookspecs import hookimpl

if TYPE_CHECKING:
    from blackwell_decide.model import PriceSnapshot
    from blackwell_decide.registry import Registry


@hookimpl
def register_price_snapshots(registry: Registry[PriceSnapshot]) -> None:
    for path in data_files("prices"):
        for snapshot in load_price_snapshots(path):
            registry.add(snapshot)
