"""What is established for one option (a fleet: GPU, precision, TP, count): its operating point,
power, rack fit, cost, and how it compares with another option; the roles an option can play."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.bounds import Bounds, Derived, Speedup
from blackwell_decide.economics import (
    Bill,
    CostTable,
    FleetPlan,
    Payback,
    RatioMatrix,
)
from blackwell_decide.economics.provisioning import PowerBasis
from blackwell_decide.formatting import finite_or_none as _finite
from blackwell_decide.model import (
    Cooling,
    Deployment,
    PriceQuote,
    Source,
)
from blackwell_decide.rules.precision import AccuracyEvidence, StackVerdict
from blackwell_decide.scenario import Ownership, SiteCooling

if TYPE_CHECKING:
    from blackwell_decide.perf import Prediction

#: Tensor-parallel sizes tried for a candidate whose scenario leaves ``tp`` open (and for the
#: current fleet's GPUs re-tuned).
AUTO_TP: tuple[int, ...] = (1, 2, 4, 8)
RETUNED_ID = "current-retuned"
RETUNED_ROLE = "retuned"
RIGHTSIZED_ID = "current-rightsized"
RIGHTSIZED_ROLE = "rightsized"
#: The options that change nothing but today's own fleet, in the order a tie prefers them (fewest
#: changes first).
NO_PURCHASE_ROLES: tuple[str, ...] = ("current", RIGHTSIZED_ROLE, RETUNED_ROLE)
#: Weight formats whose element is this narrow count as "4-bit" for the precision fallback.
LOW_BIT_ELEMENT_BITS = 4
FALLBACK_WEIGHTS = "fp8"
DEFAULT_ENGINE = "vllm"

# --------------------------------------------------------------------------- value classes


@attrs.frozen
class ServicePoint:
    """The operating point one replica runs at to meet the service level.

    For a traffic mix (``classes`` holds each class's own point, in the mix's order) the figures
    speak for the mix: output per GPU is the classes' output-weighted harmonic mean
    (economics.mix), ``tok_s_per_user`` the slowest class's and ``tpot_s``/``ttft_s`` the worst
    class's (the service level holds for every class, not on average), ``concurrency`` the
    requests in flight per replica averaged over the GPU time each class takes, and the binding
    limit, profile and prediction those of the class that takes the most GPU time."""

    prediction: Prediction
    tok_s_per_user: float
    output_tok_s_per_gpu: float
    concurrency: float  # requests per replica
    tpot_s: float
    ttft_s: float
    binding: str
    extrapolated: bool
    band: tuple[float, float]
    profile: str
    source: Source
    classes: tuple[ServicePoint, ...] = ()  # a mix's classes, each at its own point; () for one shape
    class_time_shares: tuple[float, ...] = ()  # the share of GPU time each class takes (sums to 1)

    def context_in_flight(self, request_tokens: float) -> float:
        """Tokens a request in flight holds in KV on average: ``request_tokens`` (input + output)
        for one shape; for a mix, each class's length weighted by its requests in flight (a long
        class holds more of the KV room than the mean length says)."""
        if not self.classes:
            return request_tokens
        held = sum(
            share * p.concurrency * (p.prediction.workload.isl + p.prediction.workload.osl)
            for share, p in zip(self.class_time_shares, self.classes, strict=True)
        )
        return float(held / self.concurrency)


@attrs.frozen
class PowerFacts:
    gpu_watts: float
    gpu_watts_source: Source | None
    provisioned_watts: float  # per GPU, all-in: board power × (1 + server overhead) × PUE
    fleet_kw: float  # the GPUs holding the peak, all-in
    tokens_per_mw: Derived | None  # output tok/s per provisioned MW at the service point
    energy_usd_per_gpu_hour: float | None
    basis: PowerBasis | None = None


@attrs.frozen
class RackFit:
    """Can the facility host this GPU, and how densely."""

    site_cooling: SiteCooling
    gpu_cooling: Cooling
    cooling_ok: bool
    server_kw: float  # one server (the unit the GPU is bought in) of ``server_gpus`` GPUs, IT power
    rack_kw: float
    servers_per_rack: int
    gpus_per_rack: int
    racks_needed: int | None
    fits: bool
    server_gpus: int = 8
    #: The unit in words: "8-GPU server", or a rack-scale system ("NVL72 rack of 72 GPUs")
    server_words: str = "8-GPU server"


@attrs.frozen
class OptionFacts:
    """One deployment: the current fleet, a candidate, or an alternative derived from one.

    ``role`` is ``current``, ``candidate``, ``fp8-fallback`` (a 4-bit candidate at FP8),
    ``cloud`` (an owned candidate rented instead), ``retuned`` (the current fleet's GPUs at
    the tensor-parallel size the automatic search picks) or ``rightsized`` (the current fleet
    at the size the model gives it); ``parent`` names the option it derives from. ``gpus`` is
    the fleet that is paid for: the count the scenario declares for the current fleet, the
    fleet the model sizes for the peak for every other option (``modelled_gpus``).
    ``tp_throughput`` lists, for an automatic TP choice, the output tokens/s per GPU of every
    tensor-parallel size that met the service level.
    """

    id: str
    label: str
    role: str
    parent: str | None
    ownership: Ownership
    engine: str
    deployment: Deployment
    bounds: Bounds
    min_tp: int
    kv_room_min_tp: Derived  # KV room per GPU at ``min_tp``: what the GPU offers once it holds the weights
    tp_tried: tuple[tuple[int, str], ...]  # (tp, outcome) for automatic choices
    service: ServicePoint | None
    fleet: FleetPlan | None
    gpus: int
    gpus_in_service: int | None
    price: PriceQuote | None
    costs: CostTable | None
    cost_per_million_output: Derived | None
    cost_per_million_input: Derived | None
    monthly: Derived | None  # the bill's monthly figure (``bill.monthly``)
    power: PowerFacts
    rack: RackFit | None
    notes: tuple[str, ...] = ()
    bill: Bill | None = None
    features: Any = None  # perf.ServingFeatures the operating point was predicted with
    tp_throughput: tuple[tuple[int, float], ...] = ()
    #: Today's fleet only: the most output tokens/s per GPU any operating point carries (the
    #: model's busiest point, whatever the latency), which caps what a declared fleet can serve.
    max_output_tok_s_per_gpu: float | None = None

    @property
    def tp(self) -> int:
        return self.deployment.tp

    @property
    def accelerator(self) -> str:
        return self.deployment.accelerator.key

    @property
    def weights(self) -> str:
        return self.deployment.scheme.weights.key

    @property
    def low_bit(self) -> bool:
        return self.deployment.scheme.weights.element_bits <= LOW_BIT_ELEMENT_BITS

    @property
    def kv_room_per_gpu(self) -> float:
        return self.bounds.value("kv_budget_bytes")

    @property
    def prefill_ceiling_per_gpu(self) -> float:
        return self.bounds.value("prefill_ceiling_tok_s") / self.tp

    @property
    def monthly_usd(self) -> float | None:
        return self.monthly.value if self.monthly else None

    @property
    def modelled_gpus(self) -> int | None:
        """The fleet the model sizes for the peak (None without an operating point)."""
        return self.fleet.gpus if self.fleet is not None else None

    @property
    def output_tok_s_per_gpu(self) -> float | None:
        """Output tokens/s per GPU at the service level (None without a modelled operating point)."""
        return self.service.output_tok_s_per_gpu if self.service is not None else None

    def to_dict(self) -> dict[str, Any]:
        classes = self.service.classes if self.service is not None else ()
        return {
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "parent": self.parent,
            "gpu": self.accelerator,
            "weights": self.weights,
            "kv": self.deployment.scheme.kv_cache.key,
            "tp": self.tp,
            "engine": self.engine,
            "ownership": self.ownership.value,
            "gpus": self.gpus,
            "modelled_gpus": self.modelled_gpus,
            "output_tok_s_per_gpu": self.output_tok_s_per_gpu,
            "usd_per_gpu_hour": self.price.usd_per_gpu_hour if self.price else None,
            "tier": self.price.tier if self.price else None,
            "usd_per_million_output": self.cost_per_million_output.value if self.cost_per_million_output else None,
            "usd_per_month": self.monthly_usd,
            "bill": self.bill.to_dict() if self.bill else None,
            "tp_tried": [{"tp": tp, "outcome": outcome} for tp, outcome in self.tp_tried],
            **({"service_per_class": [_class_dict(p) for p in classes]} if classes else {}),
        }


def _class_dict(point: ServicePoint) -> dict[str, Any]:
    """One class of a mix at its own operating point (each meets the service level on its own)."""
    return {
        "isl": point.prediction.workload.isl,
        "osl": point.prediction.workload.osl,
        "output_tok_s_per_gpu": point.output_tok_s_per_gpu,
        "tok_s_per_user": point.tok_s_per_user,
        "tpot_s": point.tpot_s,
        "ttft_s": point.ttft_s,
        "concurrency": point.concurrency,
        "binding": point.binding,
    }


@attrs.frozen
class Comparison:
    """One option against a baseline, at the prices each pays: today's fleet as declared
    (``baseline == "current"``), the current fleet re-tuned (``baseline == RETUNED_ID``) or
    right-sized (``baseline == RIGHTSIZED_ID``). The ``current_*`` fields describe that
    baseline."""

    option: str
    option_label: str
    tier: str
    current_tier: str
    current_monthly: Derived
    option_monthly: Derived
    cost_per_million_current: Derived
    cost_per_million_option: Derived
    payback: Payback
    break_even: Derived
    floor_speedup: Speedup
    tiers: RatioMatrix | None
    current_gpus: int
    option_gpus: int
    option_gpus_exact: float | None  # peak output tokens/s over one GPU's, before rounding up
    baseline: str = "current"
    baseline_tp: int | None = None
    current_bill: Bill | None = None
    option_bill: Bill | None = None

    @property
    def against_retuned(self) -> bool:
        return self.baseline == RETUNED_ID

    @property
    def against_rightsized(self) -> bool:
        return self.baseline == RIGHTSIZED_ID

    @property
    def against_today(self) -> bool:
        return self.baseline == "current"

    @property
    def current_monthly_usd(self) -> float:
        return self.current_monthly.value

    @property
    def option_monthly_usd(self) -> float:
        return self.option_monthly.value

    @property
    def monthly_savings_usd(self) -> float:
        return self.current_monthly_usd - self.option_monthly_usd

    @property
    def savings_fraction(self) -> float:
        return self.monthly_savings_usd / self.current_monthly_usd if self.current_monthly_usd else 0.0

    @property
    def cost_ratio(self) -> float:
        """The baseline's bill ÷ the option's, for the same traffic served: the realized cost per
        token served, baseline over option (above 1: the option is cheaper; a free option: inf)."""
        if self.option_monthly_usd <= 0:
            return math.inf if self.current_monthly_usd > 0 else 1.0
        return self.current_monthly_usd / self.option_monthly_usd

    @property
    def unit_cost_ratio(self) -> float:
        """Full-load unit cost per output token, baseline over option: each GPU kept busy at the
        service level (the per-tier table's reading, not the bill)."""
        if self.cost_per_million_option.value <= 0:
            return math.inf if self.cost_per_million_current.value > 0 else 1.0
        return self.cost_per_million_current.value / self.cost_per_million_option.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "baseline": self.baseline,
            "tier": self.tier,
            "baseline_tier": self.current_tier,
            "baseline_usd_per_month": self.current_monthly_usd,
            "option_usd_per_month": self.option_monthly_usd,
            "monthly_savings_usd": self.monthly_savings_usd,
            "savings_fraction": self.savings_fraction,
            "bill_ratio": _finite(self.cost_ratio),
            "full_load_unit_cost_ratio": _finite(self.unit_cost_ratio),
            "payback": self.payback.to_dict(),
            "break_even_usd_per_gpu_hour": self.break_even.value,
        }


@attrs.frozen
class Retune:
    """The current fleet's GPUs at the tensor-parallel size the automatic search picks.

    ``option`` (role ``retuned``) is there only when that TP serves strictly more output per GPU
    than the configured one; ``comparison`` is it against today's fleet, with no one-time cost:
    re-tuning keeps the GPUs, the price and the contract (an assumption; the engineering of a
    re-deployment is not counted).
    """

    configured_tp: int
    best_tp: int | None  # None when no size meets the service level
    tried: tuple[tuple[int, str], ...]
    throughput: tuple[tuple[int, float], ...]  # (tp, output tok/s per GPU) for every size that meets it
    option: OptionFacts | None
    comparison: Comparison | None

    @property
    def improves(self) -> bool:
        return self.option is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "configured_tp": self.configured_tp,
            "best_tp": self.best_tp,
            "improves": self.improves,
            "option": self.option.id if self.option else None,
            "throughput": [{"tp": tp, "output_tok_s_per_gpu": rate} for tp, rate in self.throughput],
            "against_today": self.comparison.to_dict() if self.comparison else None,
        }


@attrs.frozen
class FleetCheck:
    """The fleet the scenario declares against the one the model sizes for the peak at the
    configured TP.

    ``difference`` is (declared − modelled) / modelled; beyond ``tolerance`` either way the two
    disagree: ``short`` (the model says the declared fleet cannot hold the service level at peak;
    ``delivered_tok_s_per_user`` is what it would give each user there, None when even the
    busiest operating point carries less than ``required_tok_s_per_gpu``, whose output is then
    ``max_tok_s_per_gpu``) or ``over`` (it holds the peak on fewer GPUs). ``per_gpu_at_target``
    is today's output tok/s per GPU at the service level and ``band_high`` the top of its
    prediction band: :attr:`served_at_best` is the share of the peak the declared fleet carries
    even there, and :attr:`beyond_band` says the model's error cannot close the gap (the fleet
    does not serve the load; no benchmark is needed to say so). ``rightsized`` is the
    current fleet at the modelled size, with ``comparison`` against today's, when they disagree
    (an owned fleet is never grown: that would be a purchase).
    """

    declared: int
    modelled: int | None
    tolerance: float
    required_tok_s_per_gpu: float
    target_tok_s_per_user: float
    delivered_tok_s_per_user: float | None = None
    max_tok_s_per_gpu: float | None = None
    rightsized: OptionFacts | None = None
    comparison: Comparison | None = None
    per_gpu_at_target: float | None = None
    band_high: float = 0.0

    @property
    def served_at_best(self) -> float | None:
        """Share of the peak's output the declared fleet carries at the service level, at the top
        of the model's band (None without an operating point)."""
        if self.per_gpu_at_target is None or self.required_tok_s_per_gpu <= 0:
            return None
        return self.per_gpu_at_target * (1 + self.band_high) / self.required_tok_s_per_gpu

    @property
    def beyond_band(self) -> bool:
        served = self.served_at_best
        return self.short and served is not None and served < 1.0

    @property
    def difference(self) -> float | None:
        if not self.modelled:
            return None
        return (self.declared - self.modelled) / self.modelled

    @property
    def short(self) -> bool:
        return self.difference is not None and self.difference < -self.tolerance

    @property
    def over(self) -> bool:
        return self.difference is not None and self.difference > self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {
            "declared_gpus": self.declared,
            "modelled_gpus": self.modelled,
            "difference": self.difference,
            "tolerance": self.tolerance,
            "short": self.short,
            "over": self.over,
            "required_output_tok_s_per_gpu": self.required_tok_s_per_gpu,
            "delivered_tok_s_per_user": self.delivered_tok_s_per_user,
            "max_output_tok_s_per_gpu": self.max_tok_s_per_gpu,
            "output_tok_s_per_gpu_at_target": self.per_gpu_at_target,
            "band_high": self.band_high,
            "share_of_peak_served_at_best": self.served_at_best,
            "short_beyond_band": self.beyond_band,
            "rightsized": self.rightsized.id if self.rightsized else None,
            "against_today": self.comparison.to_dict() if self.comparison else None,
        }


@attrs.frozen
class PrecisionFacts:
    """What the constraints and the evidence say about a candidate's 4-bit weights."""

    option: str
    format: str
    stack: StackVerdict
    evidence: tuple[AccuracyEvidence, ...]
    fp8_evidence: tuple[AccuracyEvidence, ...]
    required_recovery: float | None

    @property
    def evidence_floor(self) -> float | None:
        """The lowest recovery any record shows (the conservative reading)."""
        return min((e.recovery for e in self.evidence), default=None)

    @property
    def accuracy_ok(self) -> bool:
        if self.required_recovery is None:
            return True
        floor = self.evidence_floor
        return floor is not None and floor >= self.required_recovery
