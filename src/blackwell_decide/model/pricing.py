"""Dated GPU-hour prices, and the price tiers a quote may carry.

The tiers are an open registry (:data:`PRICE_TIERS`): the built-in plugin registers the six
below through the ``register_price_tiers`` hook and a third-party plugin adds its own the same
way (docs/hooks.md); building a catalog adds every registered tier here, so a
:class:`PriceSnapshot` read afterwards may quote it. A snapshot checks its own quotes: each has
the snapshot's provider, a known tier and an ``as_of`` no later than the snapshot's (a quote may
carry an earlier date of its own, for a figure fetched before the rest; the shipped data does
not today, but a provider's page often dates its tables separately).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import attrs

from blackwell_decide.errors import nearest_match
from blackwell_decide.model import validators as v
from blackwell_decide.model.source import Source


def _tier_key(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or value != value.strip().lower() or " " in value:
        raise ValueError(f"a price tier is one lower-case word (e.g. 'reserved-1y'), got {value!r}")


@attrs.frozen
class PriceTier:
    """One tier word a price quote may carry (``on-demand``, ``reserved-1y``, …) and what it means."""

    key: str = attrs.field(validator=_tier_key)
    description: str = ""


class PriceTiers:
    """The process-wide set of known tiers, open to plugins (``register_price_tiers``).

    It answers ``tier in PRICE_TIERS`` and iterates over the tier keys in registration order, so
    it reads like the tuple it replaces."""

    def __init__(self, tiers: Iterable[PriceTier]) -> None:
        self._tiers: dict[str, PriceTier] = {t.key: t for t in tiers}

    def add(self, tier: PriceTier) -> None:
        """Make ``tier`` known (a second registration of the same key keeps the first)."""
        self._tiers.setdefault(tier.key, tier)

    def get(self, key: str) -> PriceTier:
        return self._tiers[key]

    def problem(self, tier: str) -> str | None:
        """None for a known tier; otherwise what is wrong and how to fix it, with the nearest
        known tier ("on-demnd": did you mean 'on-demand'?)."""
        if tier in self._tiers:
            return None
        near = nearest_match(tier, self._tiers)
        hint = f" (did you mean {near!r}?)" if near else ""
        return f"unknown tier {tier!r}{hint}; use one of: {', '.join(self._tiers)}"

    def __contains__(self, tier: object) -> bool:
        return isinstance(tier, str) and tier in self._tiers

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._tiers))

    def __len__(self) -> int:
        return len(self._tiers)


#: The built-in tiers; the built-in prices plugin registers them through the hook, so this is
#: also where the model starts (a snapshot built before any catalog still knows them).
BUILTIN_PRICE_TIERS: tuple[PriceTier, ...] = (
    PriceTier("on-demand", "list price, billed by the hour, no commitment"),
    PriceTier("spot", "interruptible capacity at a market price"),
    PriceTier("reserved-1y", "a one-year reservation, billed whether used or not"),
    PriceTier("reserved-3y", "a three-year reservation, billed whether used or not"),
    PriceTier("negotiated", "a private rate agreed with the provider"),
    PriceTier("committed", "a spend or capacity commitment discount"),
)

PRICE_TIERS = PriceTiers(BUILTIN_PRICE_TIERS)
"""The tier words a price quote in a :class:`PriceSnapshot` may carry."""


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

    @quotes.validator
    def _check_quotes(self, _: attrs.Attribute[tuple[PriceQuote, ...]], quotes: tuple[PriceQuote, ...]) -> None:
        for quote in quotes:
            what = f"{self.provider} snapshot of {self.as_of.isoformat()}: quote {quote.accelerator} {quote.tier}"
            if quote.provider != self.provider:
                raise ValueError(f"{what} is from {quote.provider!r}; a snapshot holds one provider's prices")
            tier_problem = PRICE_TIERS.problem(quote.tier)
            if tier_problem is not None:
                raise ValueError(f"{what}: {tier_problem}")
            if quote.as_of > self.as_of:
                raise ValueError(
                    f"{what} is dated {quote.as_of.isoformat()}, after the snapshot; "
                    "date the snapshot on or after its newest quote"
                )

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
