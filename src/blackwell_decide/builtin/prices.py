"""Built-in price tiers (on-demand, spot, reserved-1y, reserved-3y, negotiated, committed) and
dated price snapshots (one provider and date each), read from ``data/prices`` with the public
loader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide import PRICE_TIERS, hookimpl, load_price_snapshots
from blackwell_decide.builtin._data import data_files

if TYPE_CHECKING:
    from blackwell_decide import PriceSnapshot, PriceTier, Registry

#: The tier words shipped with the package (their descriptions live in the model's registry).
BUILTIN_TIERS: tuple[str, ...] = ("on-demand", "spot", "reserved-1y", "reserved-3y", "negotiated", "committed")


@hookimpl
def register_price_tiers(registry: Registry[PriceTier]) -> None:
    for key in BUILTIN_TIERS:
        registry.add(PRICE_TIERS.get(key))


@hookimpl
def register_price_snapshots(registry: Registry[PriceSnapshot]) -> None:
    for path in data_files("prices"):
        for snapshot in load_price_snapshots(path):
            registry.add(snapshot)
