"""Where a scenario's prices come from: the ``[prices]`` section, the check that every rented
deployment has a price, and :func:`price_sources`, the snapshots the cost model reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import TableReader
from blackwell_decide.scenario._names import CatalogCheck
from blackwell_decide.scenario.spec import CandidateSpec, FleetSpec, Ownership, PriceSpec

if TYPE_CHECKING:
    from blackwell_decide.model import PriceSnapshot
    from blackwell_decide.plugins import Catalog


def prices_section(r: TableReader, cat: CatalogCheck, doc: Mapping[str, Any], base: Path) -> PriceSpec | None:
    table = r.table(doc, "prices", required=False) or {}
    r.unknown_keys(table, "prices", "prices")
    snapshot = r.get(table, "prices", "snapshot", "prices")
    tier = r.get(table, "prices", "tier", "prices") or "on-demand"
    file = r.get(table, "prices", "file", "prices")
    provider = None
    if isinstance(snapshot, str) and "@" not in snapshot:
        # A provider alone: its newest snapshot on or before the decision date (price_sources).
        providers = {snap.provider.lower() for snap in cat.catalog.prices.values()}
        if snapshot.strip().lower() in providers:
            provider, snapshot = snapshot.strip().lower(), None
    if snapshot is not None:
        snapshot = cat.key("prices", "prices.snapshot", snapshot, "catalog prices")
        if snapshot is None:
            return None
    file_path = base / file if file else None
    if file_path is not None and not file_path.is_file():
        r.problem("prices.file", f"{file_path} does not exist; give a path relative to the scenario file")
        return None
    return PriceSpec(snapshot=snapshot, tier=tier, file=file_path, provider=provider)


def check_prices(
    r: TableReader,
    catalog: Catalog,
    prices: PriceSpec,
    current: FleetSpec,
    candidates: list[CandidateSpec],
    base: Path,
    as_of: dt.date | None = None,
) -> None:
    """Every rented deployment needs a price: explicit, or in the snapshot (or file) at its tier."""
    try:
        snapshots = price_sources(catalog, prices, as_of)
    except UsageError as exc:
        r.problem("prices.file" if prices.file is not None else "prices.snapshot", str(exc))
        return
    sides: list[tuple[str, str, str | None, float | None, Ownership]] = [
        ("current", current.gpu, current.price_tier, current.usd_per_gpu_hour, current.ownership)
    ]
    sides += [
        (f"candidates[{i}]", c.gpu, c.price_tier, c.usd_per_gpu_hour, c.ownership) for i, c in enumerate(candidates)
    ]
    for where, gpu, own_tier, explicit, ownership in sides:
        if explicit is not None or ownership is Ownership.OWNED:
            continue
        tier = own_tier or prices.tier
        if any(s.price(gpu, tier) for s in snapshots):
            continue
        if not snapshots:
            r.problem(
                "prices.snapshot",
                f"no prices given; {where} ({gpu}) is rented: set prices.snapshot "
                f"(see `blackwell-decide catalog prices`) or {where}.usd_per_gpu_hour",
            )
            return
        tiers = sorted({q.tier for s in snapshots for q in s.quotes_for(gpu)})
        have = f"tiers quoted for {gpu}: {', '.join(tiers)}" if tiers else f"no tier is quoted for {gpu}"
        r.problem(
            f"{where}.price_tier" if tier != prices.tier else "prices.tier",
            f"no {tier!r} price for {gpu} in {', '.join(s.key for s in snapshots)} ({have}); "
            f"choose a quoted tier or set {where}.usd_per_gpu_hour",
        )


def price_sources(catalog: Catalog, prices: PriceSpec, as_of: dt.date | None = None) -> list[PriceSnapshot]:
    """The price snapshots a scenario reads: its private file first (it wins), then the catalog
    snapshot: the pinned one, or the provider's newest on or before ``as_of`` (default: today).
    A bad price file raises :class:`~blackwell_decide.errors.UsageError` naming it."""
    out: list[PriceSnapshot] = []
    if prices.file is not None:
        from blackwell_decide.catalog_files import load_price_file

        out.append(load_price_file(prices.file, accelerators=catalog.accelerators))
    if prices.snapshot is not None:
        out.append(catalog.prices.get(prices.snapshot))
    if prices.provider is not None:
        day = as_of or dt.date.today()
        mine = [s for s in catalog.prices.values() if s.provider.lower() == prices.provider]
        usable = [s for s in mine if s.as_of <= day]
        if not usable:
            dates = ", ".join(sorted(s.as_of.isoformat() for s in mine))
            raise UsageError(
                f"prices.snapshot: {prices.provider} has no snapshot on or before {day.isoformat()} (dates: {dates}); "
                "set scenario.as_of to a later date or pin one as provider@date"
            )
        out.append(max(usable, key=lambda s: (s.as_of, not s.unconfirmed)))
    return out
