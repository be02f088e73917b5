"""Cost per million tokens for each price tier and token basis, and the ratio matrix between two
deployments over every pair of tiers.

cost per 1M tokens = $/GPU-hour / (tokens/s per GPU × 3600) × 10^6
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import Throughput, TokenBasis, derived
from blackwell_decide.errors import UsageError
from blackwell_decide.model import PriceQuote
from blackwell_decide.units import PER_MILLION, SECONDS_PER_HOUR

COST_FORMULA = "cost_per_1M = price_per_gpu_hour / (X * 3600) * 1e6"
COST_LATEX = r"\mathrm{cost}_{1M} = \frac{P_{\mathrm{GPU\cdot h}}}{X \cdot 3600} \cdot 10^{6}"


def cost_per_million(
    usd_per_gpu_hour: float | npt.ArrayLike, tok_s_per_gpu: float | npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """USD per million tokens; broadcasts over prices and throughputs (numpy arrays)."""
    price = np.asarray(usd_per_gpu_hour, dtype=float)
    rate = np.asarray(tok_s_per_gpu, dtype=float)
    if np.any(price < 0) or not np.all(np.isfinite(price)):
        raise UsageError(f"prices must be zero or positive USD per GPU-hour, got {price.tolist()}")
    if np.any(rate <= 0) or not np.all(np.isfinite(rate)):
        raise UsageError(f"throughputs must be positive tokens/s per GPU, got {rate.tolist()}")
    return np.asarray(price / (rate * SECONDS_PER_HOUR) * PER_MILLION, dtype=float)


@attrs.frozen
class CostLine:
    """One tier on one token basis."""

    provider: str
    tier: str
    basis: TokenBasis
    usd_per_gpu_hour: float
    tok_s_per_gpu: float
    usd_per_million: float
    derivation: Derived
    quote: PriceQuote

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "tier": self.tier,
            "token_basis": self.basis.value,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "tok_s_per_gpu": self.tok_s_per_gpu,
            "usd_per_million_tokens": self.usd_per_million,
            "price_as_of": self.quote.as_of.isoformat(),
            "price_source": self.quote.source.cite(),
            "formula": self.derivation.formula,
        }


@attrs.frozen
class CostTable:
    """Cost per million tokens of one deployment (or throughput) at every tier and basis asked for."""

    accelerator: str
    throughput: Throughput
    lines: tuple[CostLine, ...]

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.tier for line in self.lines))

    @property
    def bases(self) -> tuple[TokenBasis, ...]:
        return tuple(dict.fromkeys(line.basis for line in self.lines))

    def line(self, tier: str, basis: TokenBasis | str = TokenBasis.OUTPUT) -> CostLine:
        basis = TokenBasis.parse(basis)
        for candidate in self.lines:
            if candidate.tier == tier and candidate.basis is basis:
                return candidate
        raise UsageError(
            f"no {basis.value}-token cost at tier {tier!r} for {self.accelerator}; "
            f"tiers priced: {', '.join(self.tiers) or '(none)'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "accelerator": self.accelerator,
            "throughput": {
                "tok_s_per_gpu": self.throughput.tok_s_per_gpu,
                "token_basis": self.throughput.basis.value,
                "isl": self.throughput.isl,
                "osl": self.throughput.osl,
                "source": self.throughput.source.cite(),
                **({"note": self.throughput.note} if self.throughput.note else {}),
            },
            "costs": [line.to_dict() for line in self.lines],
        }


def cost_table(
    accelerator: str,
    throughput: Throughput,
    quotes: Sequence[PriceQuote],
    bases: Iterable[TokenBasis | str] = (TokenBasis.OUTPUT,),
) -> CostTable:
    """Cost per million tokens at every quoted tier, on each requested token basis."""
    if not quotes:
        raise UsageError(f"no prices for {accelerator}: give a provider that quotes it, or --prices FILE")
    basis_list = [TokenBasis.parse(b) for b in bases]
    rates = np.array([throughput.on_basis(b).tok_s_per_gpu for b in basis_list])
    prices = np.array([q.usd_per_gpu_hour for q in quotes])
    grid = cost_per_million(prices[:, None], rates[None, :])  # tiers × bases
    lines = []
    for i, quote in enumerate(quotes):
        for j, basis in enumerate(basis_list):
            rate = float(rates[j])
            lines.append(
                CostLine(
                    provider=quote.provider,
                    tier=quote.tier,
                    basis=basis,
                    usd_per_gpu_hour=quote.usd_per_gpu_hour,
                    tok_s_per_gpu=rate,
                    usd_per_million=float(grid[i, j]),
                    derivation=derived(
                        "cost_per_million_tokens",
                        f"USD per million {basis.value} tokens on {accelerator} at {quote.provider} {quote.tier}",
                        float(grid[i, j]),
                        "USD/1M tokens",
                        COST_FORMULA,
                        (
                            Input(
                                "price_per_gpu_hour",
                                f"{quote.provider} {quote.tier} price, {quote.as_of.isoformat()}",
                                quote.usd_per_gpu_hour,
                                "USD/GPU-h",
                                quote.source,
                            ),
                            attrs.evolve(throughput.on_basis(basis).as_input(), value=rate),
                        ),
                        COST_LATEX,
                    ),
                    quote=quote,
                )
            )
    return CostTable(accelerator=accelerator, throughput=throughput, lines=tuple(lines))


@attrs.frozen
class RatioCell:
    """How many times cheaper per token the candidate is than the baseline, for one tier pair."""

    baseline_tier: str
    candidate_tier: str
    ratio: float
    baseline_usd_per_million: float
    candidate_usd_per_million: float

    @property
    def mixed(self) -> bool:
        return self.baseline_tier != self.candidate_tier

    @property
    def candidate_free(self) -> bool:
        """A $0 candidate (a free tier, hardware already paid for): no finite ratio says how much cheaper."""
        return self.candidate_usd_per_million == 0 and self.baseline_usd_per_million > 0

    @property
    def shown(self) -> str:
        """The ratio as a reader sees it: ``2.35×``, or words where a price is $0."""
        if self.candidate_free:
            return "free (candidate costs $0)"
        if self.baseline_usd_per_million == 0 and self.candidate_usd_per_million == 0:
            return "1.00× (both free)"
        return f"{self.ratio:.2f}×"

    @property
    def label(self) -> str:
        if self.mixed:
            return f"mixed tiers: baseline {self.baseline_tier} vs candidate {self.candidate_tier}"
        return f"{self.baseline_tier} vs {self.candidate_tier}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_tier": self.baseline_tier,
            "candidate_tier": self.candidate_tier,
            "mixed_tiers": self.mixed,
            "label": self.label,
            "ratio": None if self.candidate_free else self.ratio,
            "ratio_words": self.shown,
            "baseline_usd_per_million": self.baseline_usd_per_million,
            "candidate_usd_per_million": self.candidate_usd_per_million,
        }


@attrs.frozen
class RatioMatrix:
    """Baseline cost ÷ candidate cost per million tokens over every tier pair, on one basis."""

    baseline: CostTable
    candidate: CostTable
    basis: TokenBasis
    cells: tuple[RatioCell, ...]

    def cell(self, baseline_tier: str, candidate_tier: str) -> RatioCell:
        for c in self.cells:
            if c.baseline_tier == baseline_tier and c.candidate_tier == candidate_tier:
                return c
        raise UsageError(
            f"no tier pair {baseline_tier!r} → {candidate_tier!r}; baseline tiers: "
            f"{', '.join(self.baseline.tiers)}; candidate tiers: {', '.join(self.candidate.tiers)}"
        )

    def same_tier(self) -> tuple[RatioCell, ...]:
        return tuple(c for c in self.cells if not c.mixed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_basis": self.basis.value,
            "formula": "ratio = cost_per_1M(baseline, tier_a) / cost_per_1M(candidate, tier_b)",
            "cells": [c.to_dict() for c in self.cells],
        }


def ratio_matrix(baseline: CostTable, candidate: CostTable, basis: TokenBasis | str = TokenBasis.OUTPUT) -> RatioMatrix:
    """Every (baseline tier, candidate tier) pair; pairs across tiers are marked as mixed."""
    basis = TokenBasis.parse(basis)
    a = [baseline.line(t, basis) for t in baseline.tiers]
    b = [candidate.line(t, basis) for t in candidate.tiers]
    a_cost = np.array([x.usd_per_million for x in a])
    b_cost = np.array([x.usd_per_million for x in b])
    # A $0 candidate is free: the ratio is infinite (None in JSON, "free" in words); two $0
    # prices cost the same (1.0, where 0/0 would give NaN).
    with np.errstate(divide="ignore", invalid="ignore"):
        grid = a_cost[:, None] / b_cost[None, :]
    grid = np.where((a_cost[:, None] == 0) & (b_cost[None, :] == 0), 1.0, grid)
    cells = [
        RatioCell(x.tier, y.tier, float(grid[i, j]), x.usd_per_million, y.usd_per_million)
        for i, x in enumerate(a)
        for j, y in enumerate(b)
    ]
    return RatioMatrix(baseline=baseline, candidate=candidate, basis=basis, cells=tuple(cells))
