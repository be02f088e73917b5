"""How sure a verdict is: the monthly saving as a range, by sampling what the model is unsure of.

A fleet the model sizes is only as right as the throughput per GPU it predicts: each operating
point carries the calibrated error band of its profile (wider where it is extrapolated). The
saving of an option over its baseline is sampled, vectorised with numpy, over

- the throughput of every modelled side, drawn from a triangular distribution over its band
  (most likely the prediction itself, never beyond the band's ends), which moves the GPUs each
  side needs in whole replicas (so rounding is part of the range);
- the price, where the scenario's price sources quote the same GPU and tier more than once
  (several providers or files): drawn uniformly among those quotes.

Today's declared fleet is paid as declared: its bill has no model uncertainty. The draw uses a
fixed seed, so the same scenario always gives the same range (memos stay byte-identical).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from blackwell_decide.economics import replicas_for
from blackwell_decide.formatting import pct, usd

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts

__all__ = ["SAMPLES", "SavingRange", "saving_range"]

#: Draws per range: the p10/p90 of 4,000 draws move by well under 1 % of the range between seeds.
SAMPLES = 4000
_SEED = 20260522
#: Below this probability of clearing the threshold, or above 1 − it, a verdict is not in doubt.
DOUBT = 0.1


@attrs.frozen
class SavingRange:
    """The monthly saving of ``option`` over ``baseline`` (USD/month): p10, median and p90 of the
    draws, and the probability that it clears ``threshold_fraction`` of the baseline's bill."""

    option: str
    baseline: str
    p10: float
    p50: float
    p90: float
    probability: float
    threshold_fraction: float
    samples: int
    varied: tuple[str, ...]
    extrapolated: tuple[str, ...]  # labels of the sides whose operating point is extrapolated
    #: Where the quoted saving (the model's central throughput) is the top of the range: why, in
    #: words (the option's fleet just holds the peak, so a little less throughput adds a replica)
    edge: str | None = None

    @property
    def straddles(self) -> bool:
        """The threshold lies inside the p10–p90 range: the verdict hangs on a measurement."""
        return DOUBT < self.probability < 1.0 - DOUBT

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "baseline": self.baseline,
            "p10_usd_per_month": self.p10,
            "p50_usd_per_month": self.p50,
            "p90_usd_per_month": self.p90,
            "probability_clears_threshold": self.probability,
            "threshold_fraction": self.threshold_fraction,
            "samples": self.samples,
            "varied": list(self.varied),
            "extrapolated": list(self.extrapolated),
            "quoted_saving_at_top_of_range": self.edge,
        }


def _bills(
    facts: Facts, option: OptionFacts, rng: np.random.Generator, varied: list[str], extrapolated: list[str]
) -> npt.NDArray[np.float64]:
    """``SAMPLES`` draws of one option's monthly bill."""
    bill = option.bill
    if bill is None:
        raise ValueError(f"{option.id} has no bill to sample")
    n = SAMPLES
    prices = np.full(n, bill.usd_per_gpu_hour)
    same = sorted(
        {
            q.usd_per_gpu_hour
            for snap in facts.price_snapshots
            for q in snap.quotes_for(option.accelerator)
            if q.tier == bill.tier
        }
    )
    priced_as_declared = option.price is not None and option.price.provider in ("scenario", "owned")
    if len(same) > 1 and not priced_as_declared:
        prices = rng.choice(np.asarray(same, dtype=float), size=n)
        varied.append(f"{option.label}: {len(same)} quotes for {option.accelerator} at {bill.tier}")
    service, fleet = option.service, option.fleet
    if option.role == "current" or service is None or fleet is None:
        fixed: npt.NDArray[np.float64] = bill.gpus_billed * prices * bill.terms.hours_per_month
        return fixed
    low, high = service.band
    low = max(low, -0.9)  # a throughput never falls to zero or below
    if high > low:
        factor = (
            rng.triangular(1.0 + low, 1.0, 1.0 + high, size=n) if low < 0 < high else rng.uniform(1 + low, 1 + high, n)
        )
        varied.append(f"{option.label}: throughput {low:+.0%} to {high:+.0%}")
    else:
        factor = np.ones(n)
    if service.extrapolated:
        extrapolated.append(option.label)
    per_gpu = service.output_tok_s_per_gpu * factor
    tp = option.tp
    traffic = facts.traffic
    point = float(replicas_for(traffic.output_tok_s, service.output_tok_s_per_gpu, tp))
    # GPUs another limit adds beyond the decode sizing (prefill, KV room) stay as computed.
    extra = max(fleet.gpus - point, 0.0)
    peak = replicas_for(traffic.output_tok_s, per_gpu, tp) + extra
    if bill.autoscaled or bill.terms.autoscale:
        average = replicas_for(traffic.output_tok_s / traffic.peak_to_average, per_gpu, tp)
        billed = np.minimum(np.maximum(average, bill.terms.min_replicas * tp), peak)
    else:
        billed = peak
    drawn: npt.NDArray[np.float64] = billed * prices * bill.terms.hours_per_month
    return drawn


def saving_range(facts: Facts, comparison: Comparison) -> SavingRange | None:
    """The sampled saving of ``comparison``'s option over its baseline (None when either side
    has no bill)."""
    baseline = facts.option(comparison.baseline)
    option = facts.option(comparison.option)
    if baseline.bill is None or option.bill is None:
        return None
    rng = np.random.default_rng(_SEED)
    varied: list[str] = []
    extrapolated: list[str] = []
    base = _bills(facts, baseline, rng, varied, extrapolated)
    mine = _bills(facts, option, rng, varied, extrapolated)
    saving = base - mine
    threshold = facts.scenario.thresholds.min_savings_fraction
    # A saving must be one: with both bills at $0 a zero saving equals 15 % of nothing.
    clears = (saving > 0) & (saving >= threshold * base)
    p10, p50, p90 = (float(v) for v in np.percentile(saving, (10, 50, 90)))
    edge = _edge_words(facts, option, comparison.monthly_savings_usd, p50, p90) if p90 > p10 else None
    return SavingRange(
        option=option.id,
        baseline=baseline.id,
        p10=p10,
        p50=p50,
        p90=p90,
        probability=float(np.mean(clears)),
        threshold_fraction=threshold,
        samples=SAMPLES,
        varied=tuple(varied),
        extrapolated=tuple(extrapolated),
        edge=edge,
    )


def _edge_words(facts: Facts, option: OptionFacts, quoted: float, p50: float, p90: float) -> str | None:
    """Why the quoted saving is the top of the sampled range (None when it is not): the headroom
    the option's fleet has over the peak at the model's central throughput."""
    if quoted < p90 - 0.5 or option.service is None or option.gpus <= 0:
        return None
    per_gpu = option.service.output_tok_s_per_gpu
    needed = facts.traffic.output_tok_s / option.gpus
    spare = per_gpu / needed - 1.0
    return (
        f"the saving quoted is the top of that range (median {usd(p50)}): at the model's central throughput "
        f"{option.gpus} × {option.label} hold the peak with {pct(spare, 1)} to spare ({per_gpu:,.0f} output tok/s "
        f"per GPU against the {needed:,.0f} needed), and a little less throughput needs another replica"
    )
