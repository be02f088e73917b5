"""The bill: what a fleet costs per month under its terms, divided by what it serves.

A fleet is sized for the peak in whole replicas; what is paid depends on the terms:

- **always on** (a rental held for the month, or owned hardware): every GPU that holds the
  peak is paid for every hour;
- **autoscaled** (a rental that scales with demand, where the scenario allows it): the fleet
  follows the traffic in whole replicas, never below a minimum; over the month it is paid for
  the replicas the *average* traffic needs. This is the lower bound of what autoscaling can
  reach (no scale-up lag or headroom is counted), stated as such wherever it is used.

What the fleet serves comes from the average traffic, so the realized cost per 1M tokens is
the bill over the tokens served, not a unit cost at full load: per 1M output tokens the whole
bill over the output served (prefill included, as the per-tier unit cost charges the whole
GPU-hour to output tokens, so the two compare on one basis and the realized cost is never the
lower at a load under full), and per 1M tokens the bill over input and output together. The
share of GPU time prefill takes (:func:`prefill_time_share`) is kept beside them.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import derived
from blackwell_decide.errors import UsageError
from blackwell_decide.formatting import finite_or_none
from blackwell_decide.model import DERIVED, USER_INPUT
from blackwell_decide.model import validators as v
from blackwell_decide.units import HOURS_PER_MONTH, PER_MILLION, SECONDS_PER_HOUR

__all__ = ["Bill", "BillTerms", "monthly_bill", "prefill_time_share", "replicas_for"]


@attrs.frozen
class BillTerms:
    """How a fleet is paid for. ``autoscale`` only applies to rented fleets; ``min_replicas``
    is the floor an autoscaled fleet never scales below."""

    autoscale: bool = False
    min_replicas: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    hours_per_month: float = attrs.field(default=HOURS_PER_MONTH, validator=v.non_negative(744.0, unit="h"))

    @property
    def words(self) -> str:
        if self.autoscale:
            return f"autoscaled with the average traffic (at least {self.min_replicas} replica(s))"
        return "always on, sized for the peak"


def replicas_for(output_tok_s: npt.ArrayLike, per_gpu: npt.ArrayLike, tp: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """GPUs, in whole tensor-parallel replicas, that carry ``output_tok_s`` at ``per_gpu`` each
    (vectorised over any broadcastable arrays)."""
    rate = np.asarray(output_tok_s, dtype=float)
    each = np.asarray(per_gpu, dtype=float)
    size = np.asarray(tp, dtype=float)
    # A hair of tolerance so 7.0000000001 replicas of rounding noise stays 7.
    out: npt.NDArray[np.float64] = np.ceil(rate / (each * size) - 1e-9) * size
    return out


def prefill_time_share(isl: float, osl: float, output_tok_s_per_gpu: float, prefill_tok_s_per_gpu: float) -> float:
    """Share of a GPU's serving time that goes to prefill.

    Per request, decode-and-all costs ``osl / output_tok_s_per_gpu`` GPU-seconds at the
    operating point (a serving measurement counts its prompts' time in), of which the prompt
    takes at least ``isl / prefill_tok_s_per_gpu`` (the prefill ceiling: the share is a lower
    bound). Capped at 1.
    """
    if not (output_tok_s_per_gpu > 0 and prefill_tok_s_per_gpu > 0 and osl > 0):
        return 0.0
    share = (isl / prefill_tok_s_per_gpu) / (osl / output_tok_s_per_gpu)
    return float(min(max(share, 0.0), 1.0))


@attrs.frozen
class Bill:
    """One fleet's month: the GPUs that hold the peak, what is paid for under ``terms``, and what
    the average traffic makes it serve.

    ``gpus_billed`` is the mean number of GPUs paid for over the month (the peak fleet when
    always on). ``full_load_usd_per_million_output`` is the unit cost of one GPU kept busy at the
    service level (the per-tier table's figure), kept beside the realized one and labelled as such.
    """

    gpus_peak: int = attrs.field(validator=attrs.validators.ge(0))
    gpus_billed: float = attrs.field(validator=v.non_negative(v.MAX_GPUS, unit="GPUs"))
    usd_per_gpu_hour: float = attrs.field(validator=v.non_negative(v.MAX_USD_PER_GPU_HOUR, unit="USD/GPU-h"))
    tier: str
    terms: BillTerms
    output_tokens_per_month: float = attrs.field(validator=v.non_negative(v.MAX_USD, unit="tokens"))
    input_tokens_per_month: float = attrs.field(validator=v.non_negative(v.MAX_USD, unit="tokens"))
    prefill_share: float = attrs.field(validator=v.in_range(high=1.0, unit="of GPU time"))
    full_load_usd_per_million_output: float | None
    monthly: Derived
    #: Share of the average traffic the fleet can carry (1 unless a declared fleet is too small
    #: for it: its bill is then spread over what it can serve, not over traffic it turns away).
    share_served: float = attrs.field(default=1.0, validator=v.in_range(high=1.0, unit="of the traffic"))

    def __attrs_post_init__(self) -> None:
        if self.gpus_billed > self.gpus_peak + 1e-9:
            raise UsageError(
                f"a fleet cannot be billed for {self.gpus_billed:g} GPUs when {self.gpus_peak} hold the peak"
            )

    @property
    def monthly_usd(self) -> float:
        return self.monthly.value

    @property
    def autoscaled(self) -> bool:
        return self.gpus_billed < self.gpus_peak

    @property
    def usd_per_million_total(self) -> float | None:
        """The whole bill over every token served (input and output)."""
        tokens = self.output_tokens_per_month + self.input_tokens_per_month
        return self.monthly_usd / tokens * PER_MILLION if tokens > 0 else None

    @property
    def usd_per_million_output(self) -> float | None:
        """The whole bill over the output tokens served (realized; prefill included)."""
        if self.output_tokens_per_month <= 0:
            return None
        return self.monthly_usd / self.output_tokens_per_month * PER_MILLION

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpus_peak": self.gpus_peak,
            "gpus_billed_mean": self.gpus_billed,
            "terms": self.terms.words,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "tier": self.tier,
            "usd_per_month": self.monthly_usd,
            "output_tokens_per_month": self.output_tokens_per_month,
            "input_tokens_per_month": self.input_tokens_per_month,
            "prefill_share_of_gpu_time": self.prefill_share,
            "share_of_average_traffic_served": self.share_served,
            "realized_usd_per_million_output": finite_or_none(self.usd_per_million_output),
            "realized_usd_per_million_total": finite_or_none(self.usd_per_million_total),
            "full_load_usd_per_million_output": finite_or_none(self.full_load_usd_per_million_output),
            "formula": self.monthly.formula,
        }


def monthly_bill(
    *,
    gpus_peak: int,
    tp: int,
    usd_per_gpu_hour: float,
    tier: str,
    price_source: Any,
    average_output_tok_s: float,
    average_input_tok_s: float,
    output_tok_s_per_gpu: float | None,
    prefill_share: float,
    terms: BillTerms,
    full_load_usd_per_million_output: float | None,
    declared: bool = False,
    max_output_tok_s: float | None = None,
) -> Bill:
    """The bill of a fleet of ``gpus_peak`` GPUs (TP=``tp`` replicas) at ``usd_per_gpu_hour``.

    Autoscaled, the fleet is paid for the replicas the average traffic needs at
    ``output_tok_s_per_gpu`` (never fewer than ``terms.min_replicas``, never more than the peak
    fleet); always on, or with no operating point to scale by, it is paid for ``gpus_peak``.
    ``declared`` marks today's fleet as the scenario states it (paid as declared);
    ``max_output_tok_s`` is the most output the whole fleet can carry (a declared fleet may be
    too small for its traffic): the tokens served, and so the realized cost, are capped by it.
    """
    if gpus_peak < 0 or tp < 1:
        raise UsageError(f"a fleet needs whole replicas of at least one GPU, got {gpus_peak} GPUs at TP={tp}")
    billed = _billed_gpus(gpus_peak, tp, average_output_tok_s, output_tok_s_per_gpu, terms)
    monthly = _monthly_quantity(billed, gpus_peak, usd_per_gpu_hour, tier, price_source, terms, declared)
    seconds = terms.hours_per_month * SECONDS_PER_HOUR
    share = 1.0
    if max_output_tok_s is not None and average_output_tok_s > max_output_tok_s:
        share = max(max_output_tok_s, 0.0) / average_output_tok_s
    return Bill(
        gpus_peak=gpus_peak,
        gpus_billed=billed,
        usd_per_gpu_hour=usd_per_gpu_hour,
        tier=tier,
        terms=terms,
        output_tokens_per_month=average_output_tok_s * share * seconds,
        input_tokens_per_month=average_input_tok_s * share * seconds,
        share_served=share,
        prefill_share=prefill_share,
        full_load_usd_per_million_output=full_load_usd_per_million_output,
        monthly=monthly,
    )


def _billed_gpus(
    gpus_peak: int, tp: int, average_output_tok_s: float, output_tok_s_per_gpu: float | None, terms: BillTerms
) -> float:
    """The GPUs paid for: the peak fleet, or autoscaled the whole replicas the average traffic
    needs (at least ``terms.min_replicas``, at most the peak fleet)."""
    billed = float(gpus_peak)
    if terms.autoscale and output_tok_s_per_gpu and output_tok_s_per_gpu > 0 and gpus_peak > 0:
        average = float(replicas_for(average_output_tok_s, output_tok_s_per_gpu, tp))
        billed = float(min(max(average, terms.min_replicas * tp), gpus_peak))
    return billed


def _monthly_quantity(
    billed: float,
    gpus_peak: int,
    usd_per_gpu_hour: float,
    tier: str,
    price_source: Any,
    terms: BillTerms,
    declared: bool,
) -> Derived:
    """The monthly bill as a derived quantity, with the formula and inputs a reader can check
    (the formula names the autoscaled count only where it is below the peak fleet)."""
    hours = terms.hours_per_month
    value = billed * usd_per_gpu_hour * hours
    formula = (
        "monthly = N_billed * price_per_gpu_hour * hours; N_billed = max(min_replicas * tp, "
        "ceil(average_output / (per_gpu * tp)) * tp)"
        if billed < gpus_peak
        else "monthly = N * price_per_gpu_hour * hours"
    )
    what = "GPUs declared in service" if declared else "GPUs holding the peak, whole replicas"
    inputs = (
        Input("price_per_gpu_hour", f"price per GPU-hour ({tier})", usd_per_gpu_hour, "USD/GPU-h", price_source),
        Input("N" if billed >= gpus_peak else "N_billed", what, billed, "GPUs", DERIVED),
        Input("hours", "hours per month", hours, "h", USER_INPUT),
    )
    return derived("monthly_bill", f"monthly bill, {terms.words}", value, "USD/month", formula, inputs)
