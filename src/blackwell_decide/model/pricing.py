"""Dated GPU-hour prices."""

from __future__ import annotations

import datetime as dt

import attrs

from blackwell_decide.model import validators as v
from blackwell_decide.model.source import Source


@attrs.frozen
class PriceQuote:
    """One price: USD per GPU-hour for one accelerator at one tier, on a date."""

    provider: str
    accelerator: str  # accelerator catalog key
    tier: str  # on-demand, spot, reserved-1y, reserved-3y, negotiated, …
    usd_per_gpu_hour: float = attrs.field(
        validator=v.non_negative(
            v.MAX_USD_PER_GPU_HOUR,
            unit="USD per GPU-hour",
            name="price",
            fix="give the price in USD per GPU-hour (0 for free)",
        )
    )
    as_of: dt.date
    source: Source
    note: str = ""


@attrs.frozen
class PriceSnapshot:
    """A provider's prices as published on one date. ``unconfirmed`` marks figures we could only
    read second-hand (for instance as quoted in the article)."""

    provider: str
    as_of: dt.date
    quotes: tuple[PriceQuote, ...] = attrs.field()
    source: Source
    unconfirmed: bool = False
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.provider.lower()}@{self.as_of.isoformat()}"

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.tier for q in self.quotes))

    def quotes_for(self, accelerator: str) -> tuple[PriceQuote, ...]:
        return tuple(q for q in self.quotes if q.accelerator == accelerator)

    def price(self, accelerator: str, tier: str) -> PriceQuote | None:
        for quote in self.quotes:
            if quote.accelerator == accelerator and quote.tier == tier:
                return quote
        return None
