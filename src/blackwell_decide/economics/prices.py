"""Choosing the price quotes for an accelerator: a provider's snapshot on a date, its newest
snapshot, or a user's price file; optionally narrowed to some tiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.dates import as_date
from blackwell_decide.errors import UnknownKeyError, UsageError
from blackwell_decide.model import PriceQuote, PriceSnapshot

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


@attrs.frozen
class PriceChoice:
    """The snapshot chosen and the quotes it has for one accelerator."""

    snapshot: PriceSnapshot
    accelerator: str
    quotes: tuple[PriceQuote, ...]
    how: str  # why this snapshot was chosen, for the report

    def describe(self) -> str:
        s = self.snapshot
        flag = ", unconfirmed" if s.unconfirmed else ""
        return f"{s.provider} {s.as_of.isoformat()} ({s.source.kind.value}{flag}; {self.how})"


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    day = as_date(text)
    if day is None:
        raise UsageError(f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-05-22")
    return day


def choose_prices(
    catalog: Catalog,
    accelerator: str,
    *,
    provider: str | None = None,
    as_of: str | dt.date | None = None,
    prices_file: str | Path | None = None,
    tiers: Sequence[str] = (),
) -> PriceChoice:
    """Quotes for ``accelerator`` (a catalog key) from a price file, from ``provider`` on
    ``as_of`` (its newest snapshot when no date), or from the newest snapshot of any provider
    that prices it. Unknown providers, dates, tiers and unpriced accelerators raise UsageError."""
    if prices_file is not None and (provider or as_of):
        raise UsageError("give either --prices FILE or --provider/--as-of, not both")
    if as_of is not None and provider is None:
        raise UsageError("--as-of needs --provider: a date picks one of that provider's snapshots")
    if prices_file is not None:
        from blackwell_decide.catalog_files import load_price_file

        snapshot = load_price_file(Path(prices_file), accelerators=catalog.accelerators)
        choice = PriceChoice(snapshot, accelerator, snapshot.quotes_for(accelerator), f"from {prices_file}")
    else:
        choice = _from_catalog(catalog, accelerator, provider, as_of)
    if not choice.quotes:
        priced = sorted({q.accelerator for q in choice.snapshot.quotes})
        raise UsageError(
            f"{choice.snapshot.provider} {choice.snapshot.as_of.isoformat()} has no price for {accelerator}; "
            f"it prices: {', '.join(priced) or '(nothing)'}"
        )
    if tiers:
        tiers = [t.strip().lower() for t in tiers]
        known = tuple(dict.fromkeys(q.tier for q in choice.quotes))
        unknown = [t for t in tiers if t not in known]
        if unknown:
            raise UsageError(
                f"unknown tier {unknown[0]!r} for {accelerator} at {choice.snapshot.provider} "
                f"{choice.snapshot.as_of.isoformat()}: tiers quoted are {', '.join(known)}"
            )
        choice = attrs.evolve(choice, quotes=tuple(q for q in choice.quotes if q.tier in tiers))
    return choice


def _from_catalog(catalog: Catalog, accelerator: str, provider: str | None, as_of: str | dt.date | None) -> PriceChoice:
    snapshots = list(catalog.prices.values())
    if provider is not None:
        wanted = provider.strip().lower()
        mine = [s for s in snapshots if s.provider.lower() == wanted]
        if not mine:
            raise UnknownKeyError("price provider", provider, {s.provider.lower() for s in snapshots})
        if as_of is not None:
            day = as_of if isinstance(as_of, dt.date) else parse_date(as_of)
            dated = [s for s in mine if s.as_of == day]
            if not dated:
                dates = ", ".join(sorted(s.as_of.isoformat() for s in mine))
                raise UsageError(f"{mine[0].provider} has no price snapshot dated {day.isoformat()}; dates: {dates}")
            return PriceChoice(dated[0], accelerator, dated[0].quotes_for(accelerator), "as asked")
        pricing = [s for s in mine if s.quotes_for(accelerator)] or mine
        newest = max(pricing, key=lambda s: s.as_of)
        return PriceChoice(newest, accelerator, newest.quotes_for(accelerator), "newest snapshot of that provider")
    pricing = [s for s in snapshots if s.quotes_for(accelerator)]
    if not pricing:
        raise UsageError(f"no built-in price snapshot quotes {accelerator}: pass --prices FILE with your own prices")
    newest = max(pricing, key=lambda s: (s.as_of, not s.unconfirmed))
    return PriceChoice(
        newest,
        accelerator,
        newest.quotes_for(accelerator),
        "newest snapshot pricing it; pick another with --provider/--as-of",
    )
