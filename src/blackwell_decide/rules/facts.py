"""The facts the rules read, computed from a scenario.

For the fleet in service and every candidate this computes the physical bounds, the operating
point at the workload's service level (the calibrated performance model), the fleet it takes at
peak with the prefill and KV checks, the price it pays, cost per million tokens at every quoted
tier, monthly cost, power, and whether the facility can host it. Around a candidate that stores
4-bit weights it adds the same GPU at FP8 (what situation 6 falls back to); around an owned
candidate, the same GPU rented (the cloud alternative of situation 5).

Today's fleet costs what the scenario declares: ``count`` GPUs at its price. The fleet the model
sizes for the peak at the configured TP is kept beside it as a check (:class:`FleetCheck`); when
the two differ by more than ``thresholds.fleet_mismatch_fraction``, that fleet becomes the
"right-sized" option. The current fleet's own GPUs are also tried at the tensor-parallel size the
automatic search picks: when that serves more output per GPU than the configured TP, "the current
fleet re-tuned" is an option too. These are the no-purchase options; the baseline every migration
must beat is the cheapest of them that meets the service level (:attr:`Facts.baseline`). Every
option is compared with today's fleet and with each no-purchase option: savings, cost ratio,
payback and break-even price.

Nothing here concludes anything; the rules in :mod:`blackwell_decide.rules.situations` do.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.bounds import Bounds, Derived, Input, Speedup, compute_bounds, smallest_fitting_tp, speedup
from blackwell_decide.economics import (
    Bill,
    BillTerms,
    CostTable,
    FleetPlan,
    GpuCapacity,
    Payback,
    RatioMatrix,
    Throughput,
    TokenBasis,
    Traffic,
    break_even_price,
    cost_table,
    monthly_bill,
    payback,
    prefill_time_share,
    ratio_matrix,
    size_fleet,
    tokens_per_provisioned_mw,
)
from blackwell_decide.economics.basis import derived
from blackwell_decide.economics.provisioning import PowerBasis, default_power_basis
from blackwell_decide.errors import DoesNotFitError, ScenarioError, UsageError
from blackwell_decide.formatting import finite_or_none as _finite
from blackwell_decide.model import (
    DERIVED,
    USER_INPUT,
    Conventions,
    Cooling,
    Deployment,
    ModelArch,
    PriceQuote,
    PriceSnapshot,
    Source,
    SourceKind,
)
from blackwell_decide.rules.precision import AccuracyEvidence, StackVerdict, accuracy_records, stack_support
from blackwell_decide.scenario import Ownership, Scenario, SiteCooling, price_sources
from blackwell_decide.units import HOURS_PER_MONTH, PER_MILLION, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from blackwell_decide.evidence.triangulation import Triangulation
    from blackwell_decide.perf import Prediction
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.engine import Exclusion

#: Tensor-parallel sizes tried for a candidate whose scenario leaves ``tp`` open (and for the
#: current fleet's GPUs re-tuned).
AUTO_TP: tuple[int, ...] = (1, 2, 4, 8)
RETUNED_ID = "current-retuned"
RETUNED_ROLE = "retuned"
RIGHTSIZED_ID = "current-rightsized"
RIGHTSIZED_ROLE = "rightsized"
#: Roles priced like the fleet in service: the same quote, or for owned GPUs the same marginal cost.
_PRICED_AS_CURRENT = frozenset({"current", RETUNED_ROLE, RIGHTSIZED_ROLE})
#: The options that change nothing but today's own fleet, in the order a tie prefers them (fewest
#: changes first).
NO_PURCHASE_ROLES: tuple[str, ...] = ("current", RIGHTSIZED_ROLE, RETUNED_ROLE)
#: Weight formats whose element is this narrow count as "4-bit" for the precision fallback.
LOW_BIT_ELEMENT_BITS = 4
FALLBACK_WEIGHTS = "fp8"
DEFAULT_ENGINE = "vllm"
HOURS_PER_YEAR = 8760.0


# --------------------------------------------------------------------------- value classes


@attrs.frozen
class ServicePoint:
    """The operating point one replica runs at to meet the service level."""

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
    server_kw: float  # one server of ``gpus_per_server`` GPUs, IT power
    rack_kw: float
    servers_per_rack: int
    gpus_per_rack: int
    racks_needed: int | None
    fits: bool


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
    ``max_tok_s_per_gpu``) or ``over`` (it holds the peak on fewer GPUs). ``rightsized`` is the
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


@attrs.frozen
class Facts:
    scenario: Scenario
    as_of: dt.date
    model: ModelArch
    traffic: Traffic
    tok_s_per_user: float
    current: OptionFacts
    current_min_tp_bounds: Bounds | None  # the current GPU at the smallest TP its weights fit, when it runs more
    options: tuple[OptionFacts, ...]  # candidates, their alternatives, then the right-sized and re-tuned fleets
    comparisons: Mapping[str, Comparison]  # every option against today's fleet as declared
    precision: Mapping[str, PrecisionFacts]  # by candidate id, for 4-bit candidates
    triangulation: Triangulation | None
    price_snapshots: tuple[PriceSnapshot, ...]
    price_history: tuple[PriceQuote, ...]  # the same providers' dated quotes for these GPUs, across the catalog
    months_to_contract_end: float | None
    conventions: Conventions
    notes: tuple[str, ...] = ()
    retune: Retune | None = None
    retuned_comparisons: Mapping[str, Comparison] = attrs.field(factory=dict)  # against the re-tuned fleet
    fleet_check: FleetCheck | None = None
    rightsized_comparisons: Mapping[str, Comparison] = attrs.field(factory=dict)  # against the right-sized fleet
    #: Set by the rules engine between its passes: options an applying rule excludes (id → the
    #: exclusion) and alternatives one proposes, so that every rule deciding on cost chooses among
    #: the same options the recommendation does.
    excluded: Mapping[str, Exclusion] = attrs.field(factory=dict)
    proposed: frozenset[str] = frozenset()

    @property
    def retuned(self) -> OptionFacts | None:
        return self.retune.option if self.retune is not None else None

    @property
    def rightsized(self) -> OptionFacts | None:
        return self.fleet_check.rightsized if self.fleet_check is not None else None

    @property
    def no_purchase(self) -> tuple[OptionFacts, ...]:
        """Today's fleet and what it can become without buying anything: right-sized, re-tuned."""
        return tuple(o for o in (self.current, self.rightsized, self.retuned) if o is not None)

    def holds_service_level(self, option: OptionFacts) -> bool:
        """Whether the model says ``option`` holds the service level at peak: every option it
        sizes at an operating point does; the declared fleet does when the model finds an
        operating point for it and the fleet check does not find it short."""
        if option.service is None:
            return False
        return option is not self.current or self.fleet_check is None or not self.fleet_check.short

    @property
    def capability_gap(self) -> bool:
        """Today's GPUs cannot meet the service level at any tensor-parallel size tried, by the
        model: no no-purchase option has an operating point that meets it."""
        retune = self.retune
        searched_none = retune is None or retune.best_tp is None
        return self.current.service is None and searched_none and not any(o.service for o in self.no_purchase)

    @property
    def baseline(self) -> OptionFacts:
        """What a migration has to beat: the cheapest no-purchase option that holds the service
        level (a tie keeps the one with fewer changes: today's, then right-sized, then re-tuned).
        An owned fleet that would need more GPUs than it has is a purchase, not a baseline; with
        nothing left, today's fleet is the baseline."""
        eligible = [
            o
            for o in self.no_purchase
            if o.monthly_usd is not None
            and self.holds_service_level(o)
            and (o.ownership is Ownership.RENTED or o.gpus <= self.current.gpus)
        ]
        if not eligible:
            return self.current
        return min(eligible, key=lambda o: (o.monthly_usd or 0.0, NO_PURCHASE_ROLES.index(o.role)))

    def comparisons_against(self, baseline_id: str) -> Mapping[str, Comparison]:
        """Every option against one no-purchase option (by id)."""
        if baseline_id == RETUNED_ID:
            return self.retuned_comparisons
        if baseline_id == RIGHTSIZED_ID:
            return self.rightsized_comparisons
        return self.comparisons

    def against_baseline(self, option_id: str) -> Comparison:
        """``option_id`` against :attr:`baseline` (KeyError when it could not be priced)."""
        return self.comparisons_against(self.baseline.id)[option_id]

    def choices(self) -> tuple[OptionFacts, ...]:
        """What a rule deciding on cost chooses among: the candidates, and the alternatives an
        applying rule proposed, less what an applying rule excluded (never a no-purchase
        option: those are baselines)."""
        return tuple(
            o
            for o in self.options
            if o.id not in self.excluded
            and o.role not in NO_PURCHASE_ROLES
            and (o.role == "candidate" or o.id in self.proposed)
        )

    @property
    def input_output_ratio(self) -> float:
        return self.traffic.isl / self.traffic.osl

    def option(self, option_id: str) -> OptionFacts:
        if option_id == self.current.id:
            return self.current
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    @property
    def candidates(self) -> tuple[OptionFacts, ...]:
        return tuple(o for o in self.options if o.role == "candidate")

    def derived_from(self, parent: str, role: str) -> OptionFacts | None:
        return next((o for o in self.options if o.parent == parent and o.role == role), None)


# --------------------------------------------------------------------------- helpers


def slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "option"


def months_between(start: dt.date, end: dt.date) -> float:
    return (end - start).days / (365.0 / 12.0)


def _per_gpu(value: Derived, tp: int, name: str, description: str, unit: str) -> Derived:
    return derived(
        name,
        description,
        value.value / tp,
        unit,
        f"{name} = {value.name} / tp",
        (
            Input(value.name, value.description, value.value, value.unit, DERIVED, value.name),
            Input("tp", "tensor-parallel size", float(tp), "GPUs", USER_INPUT),
        ),
    )


@attrs.frozen
class _Context:
    """What every option's computation shares."""

    scenario: Scenario
    catalog: Catalog
    model: ModelArch
    snapshots: tuple[PriceSnapshot, ...]
    as_of: dt.date
    traffic: Traffic
    workload: Any  # perf.Workload
    target: float
    conventions: Conventions


def _scenario_source(ctx: _Context, title: str) -> Source:
    return Source(url=ctx.scenario.path.name, date=ctx.as_of.isoformat(), kind=SourceKind.USER, title=title)


def _quote(ctx: _Context, gpu: str, tier: str) -> PriceQuote | None:
    for snap in ctx.snapshots:
        found = snap.price(gpu, tier)
        if found is not None:
            return found
    return None


def _all_quotes(ctx: _Context, gpu: str, effective: PriceQuote | None) -> list[PriceQuote]:
    """Every tier quoted for ``gpu`` (a private file before the catalog snapshot), with the price
    actually paid first when it is not one of them."""
    seen: dict[str, PriceQuote] = {}
    for snap in ctx.snapshots:
        for q in snap.quotes_for(gpu):
            seen.setdefault(q.tier, q)
    quotes = sorted(seen.values(), key=lambda q: (q.tier != "on-demand", q.tier))
    if effective is not None and all(q is not effective for q in quotes):
        quotes = [effective, *(q for q in quotes if q.tier != effective.tier)]
    return quotes


def _marginal_quote(ctx: _Context, gpu: str, watts: float, explicit: float | None) -> PriceQuote:
    """What running one owned GPU costs per hour: power at the site's PUE and price, plus hosting."""
    facility = ctx.scenario.facility
    if explicit is not None:
        return PriceQuote(
            "owned",
            gpu,
            "marginal",
            explicit,
            ctx.as_of,
            _scenario_source(ctx, "marginal cost per GPU-hour given in the scenario"),
        )
    if facility is None:  # the scenario loader requires [facility] for owned fleets
        raise ScenarioError(str(ctx.scenario.path), ["facility: an owned fleet needs a [facility] table"])
    basis = _power_basis(ctx, gpu)
    energy = basis.provisioned_watts(watts) / 1000.0
    value = energy * facility.usd_per_kwh + facility.hosting_usd_per_gpu_month / HOURS_PER_MONTH
    source = Source(
        url=ctx.scenario.path.name,
        date=ctx.as_of.isoformat(),
        kind=SourceKind.DERIVED,
        title="marginal cost of an owned GPU",
        note=(
            f"{watts:g} W × (1 + {basis.server_overhead:.2f}) × PUE {basis.pue:.2f} at "
            f"${facility.usd_per_kwh:g}/kWh + ${facility.hosting_usd_per_gpu_month:g}/GPU-month hosting"
        ),
    )
    return PriceQuote("owned", gpu, "marginal", value, ctx.as_of, source)


def _owned_candidate_quote(ctx: _Context, gpu: str, watts: float, spec: Any) -> PriceQuote:
    if spec.usd_per_gpu_hour is not None:
        return PriceQuote(
            "owned",
            gpu,
            "owned",
            spec.usd_per_gpu_hour,
            ctx.as_of,
            _scenario_source(ctx, "owned cost per GPU-hour given in the scenario"),
        )
    marginal = _marginal_quote(ctx, gpu, watts, None)
    amortised = spec.capex_usd_per_gpu / (spec.depreciation_years * HOURS_PER_YEAR)
    source = Source(
        url=ctx.scenario.path.name,
        date=ctx.as_of.isoformat(),
        kind=SourceKind.DERIVED,
        title="owned cost per GPU-hour",
        note=(
            f"${spec.capex_usd_per_gpu:,.0f} over {spec.depreciation_years:g} years "
            f"(${amortised:.2f}/h) + marginal ${marginal.usd_per_gpu_hour:.2f}/h ({marginal.source.note})"
        ),
    )
    return PriceQuote("owned", gpu, "owned", amortised + marginal.usd_per_gpu_hour, ctx.as_of, source)


def _price(
    ctx: _Context,
    gpu: str,
    ownership: Ownership,
    tier: str | None,
    explicit: float | None,
    watts: float,
    spec: Any,
    role: str,
) -> PriceQuote | None:
    tier = tier or ctx.scenario.prices.tier
    if ownership is Ownership.OWNED:
        if role in _PRICED_AS_CURRENT:
            return _marginal_quote(ctx, gpu, watts, ctx.scenario.current.marginal_usd_per_gpu_hour)
        return _owned_candidate_quote(ctx, gpu, watts, spec)
    if explicit is not None:
        return PriceQuote(
            "scenario",
            gpu,
            tier,
            explicit,
            ctx.as_of,
            _scenario_source(ctx, "price per GPU-hour given in the scenario"),
        )
    return _quote(ctx, gpu, tier)


# --------------------------------------------------------------------------- the operating point


def _service(
    ctx: _Context, deployment: Deployment, engine: str, features: Any = None
) -> tuple[ServicePoint | None, str]:
    """The highest-throughput point meeting the service level (TPOT and, when set, TTFT)."""
    from blackwell_decide.perf import at_interactivity
    from blackwell_decide.perf.service_level import within_ttft

    max_ttft = ctx.scenario.workload.max_ttft_s
    try:
        point = at_interactivity(
            deployment, ctx.workload, ctx.target, engine=engine, catalog=ctx.catalog, features=features
        )
    except UsageError as exc:
        return None, str(exc)
    if max_ttft is not None:
        found, shortest = within_ttft(
            deployment, ctx.workload, point, ctx.target, max_ttft, engine=engine, catalog=ctx.catalog, features=features
        )
        if found is None:
            return None, (
                f"{deployment.label} cannot meet both {ctx.target:g} tok/s per user and a TTFT of "
                f"{max_ttft * 1e3:.0f} ms: the shortest predicted TTFT is {shortest * 1e3:.0f} ms"
            )
        point = found
    binding = point.binding if isinstance(point.binding, str) else point.binding[0]
    source = Source(
        url=f"blackwell_decide performance model, calibration profile {point.profile}",
        date="n.d.",
        kind=SourceKind.DERIVED,
        title="predicted operating point at the service level",
        note="; ".join(point.notes) if point.notes else "",
    )
    return (
        ServicePoint(
            prediction=point,
            tok_s_per_user=float(point.tok_s_per_user),
            output_tok_s_per_gpu=float(point.output_tok_s_per_gpu),
            concurrency=float(point.concurrency),
            tpot_s=float(point.tpot_s),
            ttft_s=float(point.ttft_s),
            binding=binding,
            extrapolated=point.extrapolated,
            band=point.band,
            profile=point.profile,
            source=source,
        ),
        "",
    )


def _bounds(ctx: _Context, deployment: Deployment) -> Bounds:
    length = ctx.traffic.isl + ctx.traffic.osl
    lengths = sorted({8192, 32768, round(length)})
    return compute_bounds(deployment, ctx.conventions, seq_lens=lengths)


def _deployment(ctx: _Context, spec: _Spec, weights: str, kv: str | None, tp: int) -> Deployment:
    """``spec``'s GPU at ``tp`` with its engine, whose memory settings (or the scenario's
    ``memory_fraction``) size the KV room: one KV room for bounds, fleet, rules and predict."""
    from blackwell_decide.resolve import resolve_scheme

    accelerator = ctx.catalog.accelerators.get(spec.gpu)
    scheme = resolve_scheme(ctx.catalog, weights, kv, accelerator_key=accelerator.key)
    return Deployment(
        model=ctx.model,
        accelerator=accelerator,
        scheme=scheme,
        tp=tp,
        engine=spec.engine,
        memory_fraction=getattr(spec.raw, "memory_fraction", None),
    )


def _features(ctx: _Context, spec: _Spec) -> Any:
    """The serving features of ``spec`` (perf.ServingFeatures): its speculative decoding, and the
    workload's prefix-cache hit rate."""
    from blackwell_decide.perf.serving import ServingFeatures, SpeculativeDecoding

    raw = spec.raw
    kind = getattr(raw, "speculative", None)
    speculative = None
    if kind:
        try:
            speculative = SpeculativeDecoding(
                kind=kind,
                acceptance_length=float(getattr(raw, "acceptance_length", None) or 1.0),
                draft_tokens=int(getattr(raw, "draft_tokens", None) or 3),
                draft_cost=getattr(raw, "draft_cost", None),
            )
        except UsageError as exc:
            raise ScenarioError(str(ctx.scenario.path), [f"{spec.where}.speculative: {exc}"]) from None
    return ServingFeatures(speculative=speculative, prefix_cache_hit_rate=ctx.scenario.workload.prefix_cache_hit_rate)


def _holds_max_context(ctx: _Context, bounds: Bounds) -> bool:
    longest = ctx.scenario.workload.max_context_tokens
    return longest is None or bounds.value("kv_tokens") >= longest


# --------------------------------------------------------------------------- options


@attrs.frozen
class _Spec:
    id: str
    label: str
    role: str
    parent: str | None
    gpu: str
    weights: str
    kv: str | None
    tp: int | None
    engine: str
    ownership: Ownership
    tier: str | None
    explicit_price: float | None
    raw: Any
    where: str


def _build_option(ctx: _Context, spec: _Spec) -> OptionFacts:
    probe = _deployment(ctx, spec, spec.weights, spec.kv, 1)
    min_tp = smallest_fitting_tp(probe, ctx.conventions) or AUTO_TP[-1]
    tried: list[tuple[int, str]] = []
    rates: list[tuple[int, float]] = []
    notes: list[str] = []
    if spec.tp is not None:
        deployment = _deployment(ctx, spec, spec.weights, spec.kv, spec.tp)
        try:
            bounds = _bounds(ctx, deployment)
        except DoesNotFitError as exc:
            raise ScenarioError(str(ctx.scenario.path), [f"{spec.where}.tp: {exc}"]) from None
        service, why = _service(ctx, deployment, spec.engine, _features(ctx, spec))
        if service is None:
            notes.append(why)
        if not _holds_max_context(ctx, bounds):
            notes.append(
                f"at TP={spec.tp} one replica holds {bounds.value('kv_tokens'):,.0f} KV tokens, fewer than the "
                f"{ctx.scenario.workload.max_context_tokens:,.0f}-token context the service must allow"
            )
            service = None
    else:
        best: tuple[float, int, Deployment, Bounds, ServicePoint] | None = None
        first: tuple[Deployment, Bounds] | None = None
        for tp in (t for t in AUTO_TP if t >= min_tp):
            deployment = _deployment(ctx, spec, spec.weights, spec.kv, tp)
            try:
                bounds = _bounds(ctx, deployment)
            except DoesNotFitError:
                tried.append((tp, "weights do not fit"))
                continue
            first = first or (deployment, bounds)
            if not _holds_max_context(ctx, bounds):
                tried.append((tp, f"KV room holds {bounds.value('kv_tokens'):,.0f} tokens, under the maximum context"))
                continue
            service, why = _service(ctx, deployment, spec.engine, _features(ctx, spec))
            if service is None:
                tried.append((tp, why))
                continue
            tried.append((tp, f"{service.output_tok_s_per_gpu:,.0f} output tok/s per GPU"))
            rates.append((tp, service.output_tok_s_per_gpu))
            # Ties go to the smaller replica (fewer GPUs to coordinate).
            if best is None or service.output_tok_s_per_gpu > best[0] * (1 + 1e-9):
                best = (service.output_tok_s_per_gpu, tp, deployment, bounds, service)
        if best is not None:
            _, _, deployment, bounds, service_point = best
            service = service_point
        elif first is not None:
            deployment, bounds = first
            service = None
            notes.append(f"no tensor-parallel size up to {AUTO_TP[-1]} meets the service level")
        else:
            raise ScenarioError(
                str(ctx.scenario.path),
                [
                    f"{spec.where}: {ctx.model.key} with {spec.weights} weights does not fit on up to "
                    f"{AUTO_TP[-1]} × {spec.gpu}; choose a smaller weight format"
                ],
            )
    option = _finish_option(ctx, spec, deployment, bounds, min_tp, tuple(tried), service, notes)
    return attrs.evolve(option, tp_throughput=tuple(rates)) if rates else option


def _capacity(spec: _Spec, deployment: Deployment, bounds: Bounds, service: ServicePoint) -> GpuCapacity:
    tp = deployment.tp
    return GpuCapacity(
        label=spec.label,
        accelerator=deployment.accelerator.key,
        throughput=Throughput(
            tok_s_per_gpu=service.output_tok_s_per_gpu,
            basis=TokenBasis.OUTPUT,
            isl=service.prediction.workload.isl,
            osl=service.prediction.workload.osl,
            source=service.source,
            note=f"{service.tok_s_per_user:.1f} tok/s per user at concurrency {service.concurrency:g} per replica",
        ),
        tp=tp,
        tok_s_per_user=service.tok_s_per_user,
        includes_prefill=True,
        prefill_ceiling=_per_gpu(
            bounds["prefill_ceiling_tok_s"], tp, "prefill_ceiling_tok_s_per_gpu", "prefill ceiling per GPU", "tok/s"
        ),
        kv_tokens=_per_gpu(bounds["kv_tokens"], tp, "kv_tokens_per_gpu", "KV tokens per GPU", "tokens"),
    )


def _finish_option(
    ctx: _Context,
    spec: _Spec,
    deployment: Deployment,
    bounds: Bounds,
    min_tp: int,
    tried: tuple[tuple[int, str], ...],
    service: ServicePoint | None,
    notes: list[str],
) -> OptionFacts:
    acc = deployment.accelerator
    scenario = ctx.scenario
    price = _price(ctx, acc.key, spec.ownership, spec.tier, spec.explicit_price, acc.tdp_watts, spec.raw, spec.role)
    in_service = scenario.current.count if spec.role == "current" else None
    fleet = None
    costs = None
    bill: Bill | None = None
    out_cost = in_cost = monthly = None
    throughput: Throughput | None = None
    if service is not None:
        fleet = size_fleet(ctx.traffic, _capacity(spec, deployment, bounds, service), [price] if price else [])
        # Today's fleet costs what is declared; the modelled fleet is its check (FleetCheck).
        gpus = in_service or fleet.gpus
        throughput = fleet.capacity.throughput
        notes.extend(fleet.notes)
    else:
        gpus = in_service or 0
        if in_service:
            # No modelled operating point: the fleet in service is taken to carry the traffic.
            throughput = Throughput(
                tok_s_per_gpu=ctx.traffic.output_tok_s / in_service,
                basis=TokenBasis.OUTPUT,
                isl=ctx.traffic.isl,
                osl=ctx.traffic.osl,
                source=_scenario_source(ctx, "peak output tokens/s over the GPUs in service"),
                note="the model finds no operating point at the service level; the fleet in service is assumed "
                "to carry the peak",
            )
            notes.append(
                f"the current cost is that of the {in_service} GPUs in service, each carrying "
                f"{throughput.tok_s_per_gpu:,.0f} output tok/s at peak"
            )
    if throughput is not None and gpus:
        quotes = _all_quotes(ctx, acc.key, price)
        if quotes:
            costs = cost_table(acc.key, throughput, quotes, bases=(TokenBasis.OUTPUT, TokenBasis.INPUT))
        if price is not None:
            effective = cost_table(acc.key, throughput, [price], bases=(TokenBasis.OUTPUT, TokenBasis.INPUT))
            out_cost = effective.line(price.tier, TokenBasis.OUTPUT).derivation
            in_cost = effective.line(price.tier, TokenBasis.INPUT).derivation
            bill = _bill(ctx, spec, deployment, bounds, price, gpus, throughput.tok_s_per_gpu, out_cost.value)
            monthly = bill.monthly
    elif price is None and spec.ownership is Ownership.RENTED:
        notes.append(f"no {spec.tier or scenario.prices.tier} price for {acc.key}")
    power = _power(ctx, deployment, throughput, gpus)
    rack = _rack(ctx, deployment, gpus) if spec.ownership is Ownership.OWNED else None
    at_min = bounds if deployment.tp == min_tp else _bounds(ctx, attrs.evolve(deployment, tp=min_tp))
    return OptionFacts(
        id=spec.id,
        label=spec.label,
        role=spec.role,
        parent=spec.parent,
        ownership=spec.ownership,
        engine=spec.engine,
        deployment=deployment,
        bounds=bounds,
        min_tp=min_tp,
        kv_room_min_tp=at_min["kv_budget_bytes"],
        tp_tried=tried,
        service=service,
        fleet=fleet,
        gpus=gpus,
        gpus_in_service=in_service,
        price=price,
        costs=costs,
        cost_per_million_output=out_cost,
        cost_per_million_input=in_cost,
        monthly=monthly,
        power=power,
        rack=rack,
        notes=tuple(notes),
        bill=bill,
        features=_features(ctx, spec),
    )


def _bill(
    ctx: _Context,
    spec: _Spec,
    deployment: Deployment,
    bounds: Bounds,
    price: PriceQuote,
    gpus: int,
    output_tok_s_per_gpu: float,
    full_load_usd_per_million: float,
) -> Bill:
    """The option's month under the scenario's terms: today's fleet paid as declared, every other
    option for the GPUs that hold the peak; a rented fleet the scenario lets autoscale, for the
    replicas its average traffic needs."""
    w = ctx.scenario.workload
    terms = BillTerms(
        autoscale=w.autoscale and spec.ownership is Ownership.RENTED,
        min_replicas=w.min_replicas,
    )
    average = ctx.traffic.peak_to_average
    prefill = prefill_time_share(
        ctx.traffic.isl, ctx.traffic.osl, output_tok_s_per_gpu, bounds.value("prefill_ceiling_tok_s") / deployment.tp
    )
    return monthly_bill(
        gpus_peak=gpus,
        tp=deployment.tp,
        usd_per_gpu_hour=price.usd_per_gpu_hour,
        tier=price.tier,
        price_source=price.source,
        average_output_tok_s=ctx.traffic.output_tok_s / average,
        average_input_tok_s=ctx.traffic.input_tok_s / average,
        output_tok_s_per_gpu=output_tok_s_per_gpu,
        prefill_share=prefill,
        terms=terms,
        full_load_usd_per_million_output=full_load_usd_per_million,
        declared=spec.role == "current",
    )


def _power_basis(ctx: _Context, gpu: str) -> PowerBasis:
    """All-in power per GPU: the scenario's [facility] figures where given, else the GPU's
    reference-system overhead and the survey PUE (economics.provisioning)."""
    basis = default_power_basis(gpu)
    facility = ctx.scenario.facility
    if facility is None:
        return basis
    given = _scenario_source(ctx, "facility power figures given in the scenario")
    if facility.server_overhead is not None:
        basis = attrs.evolve(basis, server_overhead=facility.server_overhead, overhead_source=given, note="")
    if facility.pue is not None:
        basis = attrs.evolve(basis, pue=facility.pue, pue_source=given)
    return basis


def _power(ctx: _Context, deployment: Deployment, throughput: Throughput | None, gpus: int) -> PowerFacts:
    facility = ctx.scenario.facility
    acc = deployment.accelerator
    basis = _power_basis(ctx, acc.key)
    overhead, pue = basis.server_overhead, basis.pue
    watts = basis.provisioned_watts(acc.tdp_watts)
    per_mw = (
        tokens_per_provisioned_mw(
            throughput, acc.tdp_watts, server_overhead=overhead, pue=pue, watts_source=acc.source_of("tdp_watts")
        )
        if throughput is not None
        else None
    )
    energy = watts / 1000.0 * facility.usd_per_kwh if facility else None
    return PowerFacts(
        gpu_watts=acc.tdp_watts,
        gpu_watts_source=acc.source_of("tdp_watts"),
        provisioned_watts=watts,
        fleet_kw=gpus * watts / 1000.0,
        tokens_per_mw=per_mw,
        energy_usd_per_gpu_hour=energy,
        basis=basis,
    )


def _rack(ctx: _Context, deployment: Deployment, gpus: int) -> RackFit | None:
    facility = ctx.scenario.facility
    if facility is None:
        return None
    acc = deployment.accelerator
    cooling_ok = not (facility.cooling is SiteCooling.AIR and acc.cooling is Cooling.LIQUID)
    # A rack's budget is IT power (server, not facility): the PUE is outside the rack.
    server_kw = facility.gpus_per_server * acc.tdp_watts * (1.0 + _power_basis(ctx, acc.key).server_overhead) / 1000.0
    servers = math.floor(facility.rack_power_kw / server_kw + 1e-9)
    per_rack = servers * facility.gpus_per_server
    racks = math.ceil(gpus / per_rack) if per_rack and gpus else None
    return RackFit(
        site_cooling=facility.cooling,
        gpu_cooling=acc.cooling,
        cooling_ok=cooling_ok,
        server_kw=server_kw,
        rack_kw=facility.rack_power_kw,
        servers_per_rack=servers,
        gpus_per_rack=per_rack,
        racks_needed=racks,
        fits=cooling_ok and servers >= 1,
    )


def _specs(ctx: _Context) -> list[_Spec]:
    s = ctx.scenario
    cur = s.current
    stack = s.constraints.serving_stack
    specs = [
        _Spec(
            id="current",
            label=_fleet_label(ctx, cur.gpu, cur.weights, cur.tp, cur.ownership.value),
            role="current",
            parent=None,
            gpu=cur.gpu,
            weights=cur.weights,
            kv=cur.kv,
            tp=cur.tp,
            engine=cur.engine or stack or DEFAULT_ENGINE,
            ownership=cur.ownership,
            tier=cur.price_tier,
            explicit_price=cur.usd_per_gpu_hour,
            raw=cur,
            where="current",
        )
    ]
    for index, cand in enumerate(s.candidates):
        cid = slug(cand.name)
        engine = cand.engine or stack or cur.engine or DEFAULT_ENGINE
        where = f"candidates[{index}]"
        specs.append(
            _Spec(
                cid,
                f"{cand.name} ({cand.ownership.value})",
                "candidate",
                None,
                cand.gpu,
                cand.weights,
                cand.kv,
                cand.tp,
                engine,
                cand.ownership,
                cand.price_tier,
                cand.usd_per_gpu_hour,
                cand,
                where,
            )
        )
    return specs


def _alternatives(ctx: _Context, candidate: _Spec) -> list[_Spec]:
    out = []
    fmt = ctx.catalog.formats.get(candidate.weights)
    if fmt.element_bits <= LOW_BIT_ELEMENT_BITS and FALLBACK_WEIGHTS in ctx.catalog.formats:
        out.append(
            attrs.evolve(
                candidate,
                id=f"{candidate.id}-at-fp8",
                label=f"{_gpu_name(ctx, candidate.gpu)} FP8 ({candidate.ownership.value})",
                role="fp8-fallback",
                parent=candidate.id,
                weights=FALLBACK_WEIGHTS,
                kv=candidate.kv,
                tp=None,
            )
        )
    if candidate.ownership is Ownership.OWNED:
        tier = candidate.tier or ctx.scenario.prices.tier
        if _quote(ctx, candidate.gpu, tier) is not None:
            out.append(
                attrs.evolve(
                    candidate,
                    id=f"{candidate.id}-rented",
                    label=f"{_gpu_name(ctx, candidate.gpu)} {candidate.weights.upper()} (rented, {tier})",
                    role="cloud",
                    parent=candidate.id,
                    ownership=Ownership.RENTED,
                    tier=tier,
                    explicit_price=None,
                )
            )
    return out


def _gpu_name(ctx: _Context, gpu: str) -> str:
    name = ctx.catalog.accelerators.get(gpu).name
    return name.replace("NVIDIA ", "")


def _fleet_label(ctx: _Context, gpu: str, weights: str, tp: int, how: str) -> str:
    return f"{_gpu_name(ctx, gpu)} {weights.upper()}" + (f" TP={tp}" if tp > 1 else "") + f" ({how})"


def _tok_s_per_gpu(ctx: _Context, option: OptionFacts) -> float | None:
    """Output per GPU at the service level; for a fleet with no modelled operating point, the
    peak spread over the GPUs in service (what its cost is computed from)."""
    if option.service is not None:
        return option.service.output_tok_s_per_gpu
    if option.gpus_in_service:
        return ctx.traffic.output_tok_s / option.gpus_in_service
    return None


def _retune(ctx: _Context, spec: _Spec, current: OptionFacts) -> Retune:
    """The current fleet's GPUs, weights, KV format, engine and price at the TP the automatic
    search picks; an option only when it serves strictly more output per GPU than today's TP."""
    try:
        searched = _build_option(
            ctx,
            attrs.evolve(
                spec,
                id=RETUNED_ID,
                label=_fleet_label(ctx, spec.gpu, spec.weights, 1, f"{spec.ownership.value}, re-tuned"),
                role=RETUNED_ROLE,
                parent=current.id,
                tp=None,
            ),
        )
    except ScenarioError:
        # The weights fit none of the sizes searched (only a larger configured TP holds them).
        return Retune(current.tp, None, (), (), None, None)
    best_tp = searched.tp if searched.service is not None else None
    today = _tok_s_per_gpu(ctx, current)
    better = (
        searched.service is not None
        and searched.tp != current.tp
        and (today is None or searched.service.output_tok_s_per_gpu > today * (1 + 1e-9))
    )
    option = comparison = None
    if better:
        option = attrs.evolve(
            searched,
            label=_fleet_label(ctx, spec.gpu, spec.weights, searched.tp, f"{spec.ownership.value}, re-tuned"),
        )
        # Re-tuning keeps the GPUs and the contract: no one-time cost is counted (an assumption).
        comparison = _compare(ctx, current, option, one_time=0.0)
    return Retune(
        configured_tp=current.tp,
        best_tp=best_tp,
        tried=searched.tp_tried,
        throughput=searched.tp_throughput,
        option=option,
        comparison=comparison,
    )


def _fleet_check(ctx: _Context, spec: _Spec, current: OptionFacts) -> FleetCheck:
    """The declared fleet against the modelled one; the right-sized fleet when they disagree."""
    declared = current.gpus_in_service or current.gpus
    check = FleetCheck(
        declared=declared,
        modelled=current.modelled_gpus,
        tolerance=ctx.scenario.thresholds.fleet_mismatch_fraction,
        required_tok_s_per_gpu=ctx.traffic.output_tok_s / declared,
        target_tok_s_per_user=ctx.target,
    )
    if check.short and current.service is not None:
        delivered, busiest = _delivered(ctx, current, check.required_tok_s_per_gpu)
        check = attrs.evolve(check, delivered_tok_s_per_user=delivered, max_tok_s_per_gpu=busiest)
    grows_owned = check.short and current.ownership is Ownership.OWNED
    if not (check.short or check.over) or grows_owned or current.service is None:
        return check
    sized = _finish_option(
        ctx,
        attrs.evolve(
            spec,
            id=RIGHTSIZED_ID,
            label=_fleet_label(ctx, spec.gpu, spec.weights, current.tp, f"{spec.ownership.value}, right-sized"),
            role=RIGHTSIZED_ROLE,
            parent=current.id,
        ),
        current.deployment,
        current.bounds,
        current.min_tp,
        (),
        current.service,
        [],
    )
    # Resizing keeps the GPUs, the price and the configuration: no one-time cost (an assumption).
    return attrs.evolve(check, rightsized=sized, comparison=_compare(ctx, current, sized, one_time=0.0))


def _delivered(ctx: _Context, current: OptionFacts, required_tok_s_per_gpu: float) -> tuple[float | None, float]:
    """Tokens/s per user at the least busy operating point that carries ``required_tok_s_per_gpu``
    output tokens/s per GPU (None when none does), and the most any operating point carries."""
    from blackwell_decide.perf import frontier

    curve = frontier(
        current.deployment, ctx.workload, engine=current.engine, catalog=ctx.catalog, features=current.features
    )
    rate = np.asarray(curve.output_tok_s_per_gpu, dtype=float)
    user = np.asarray(curve.tok_s_per_user, dtype=float)
    enough = np.flatnonzero(rate >= required_tok_s_per_gpu)
    delivered = float(user[enough[0]]) if enough.size else None
    return delivered, float(rate.max())


def _compare(
    ctx: _Context, current: OptionFacts, option: OptionFacts, *, one_time: float | None = None
) -> Comparison | None:
    """``option`` against ``current`` (today's fleet, or the re-tuned one); ``one_time`` defaults
    to the scenario's migration costs."""
    if (
        option.monthly is None
        or current.monthly is None
        or option.cost_per_million_output is None
        or current.cost_per_million_output is None
        or option.price is None
        or current.price is None
    ):
        return None
    # A migration pays its one-time costs and runs both fleets for the overlap; a no-purchase
    # change of today's fleet (re-tune, right-size) is assumed to need neither.
    overlap = ctx.scenario.migration.overlap_months if one_time is None else 0.0
    if one_time is None:
        one_time = ctx.scenario.migration.total_usd
    # Break-even: the price at which the GPUs the option is billed for cost what the baseline does.
    billed = max(round(option.bill.gpus_billed), 1) if option.bill is not None else option.gpus
    matrix = None
    if current.costs is not None and option.costs is not None:
        matrix = ratio_matrix(current.costs, option.costs, TokenBasis.OUTPUT)
    return Comparison(
        option=option.id,
        option_label=option.label,
        tier=option.price.tier,
        current_tier=current.price.tier,
        current_monthly=current.monthly,
        option_monthly=option.monthly,
        cost_per_million_current=current.cost_per_million_output,
        cost_per_million_option=option.cost_per_million_output,
        payback=payback(one_time, current.monthly.value, option.monthly.value, overlap_months=overlap),
        break_even=break_even_price(current.monthly.value, billed),
        floor_speedup=speedup(current.bounds, option.bounds),
        tiers=matrix,
        current_gpus=current.gpus,
        option_gpus=option.gpus,
        option_gpus_exact=(
            ctx.traffic.output_tok_s / option.service.output_tok_s_per_gpu if option.service is not None else None
        ),
        baseline=current.id,
        baseline_tp=current.tp,
        current_bill=current.bill,
        option_bill=option.bill,
    )


def _precision(ctx: _Context, option: OptionFacts) -> PrecisionFacts:
    c = ctx.scenario.constraints
    engine = c.serving_stack or option.engine
    version = c.serving_stack_version if c.serving_stack else None
    return PrecisionFacts(
        option=option.id,
        format=option.weights,
        stack=stack_support(engine, version, option.weights, c.nvfp4_supported),
        evidence=accuracy_records(option.weights, ctx.model.key),
        fp8_evidence=accuracy_records(FALLBACK_WEIGHTS, ctx.model.key),
        required_recovery=c.min_accuracy_recovery,
    )


#: Models the article's triangulation (Llama 70B, H100 FP8 → B200 NVFP4) speaks for.
_TRIANGULATED_MODELS = frozenset({"llama-3.3-70b", "llama-3.1-70b", "llama-2-70b"})


def _triangulation(ctx: _Context, current: OptionFacts, options: Sequence[OptionFacts]) -> Triangulation | None:
    """The published evidence for this pair, where there is any: today, B200 NVFP4 over H100 FP8
    for Llama 70B."""
    pair = current.accelerator == "h100-sxm" and current.weights == "fp8"
    if not pair or ctx.model.key not in _TRIANGULATED_MODELS:
        return None
    if not any(o.accelerator == "b200" and o.weights == "nvfp4" for o in options):
        return None
    from blackwell_decide.evidence.triangulation import article_triangulation

    return article_triangulation(ctx.catalog)


def _price_history(ctx: _Context, options: Sequence[OptionFacts]) -> tuple[PriceQuote, ...]:
    """Every dated catalog quote, from the providers the scenario prices with, for its GPUs: how
    far a price has moved is a risk the memo reports."""
    providers = {snap.provider.lower() for snap in ctx.snapshots}
    gpus = {o.accelerator for o in options}
    quotes = [
        q
        for snap in ctx.catalog.prices.values()
        if snap.provider.lower() in providers
        for q in snap.quotes
        if q.accelerator in gpus
    ]
    return tuple(sorted(quotes, key=lambda q: (q.accelerator, q.tier, q.as_of, q.provider, q.usd_per_gpu_hour)))


def _min_tp_bounds(ctx: _Context, current: OptionFacts) -> Bounds | None:
    if current.tp <= current.min_tp:
        return None
    return _bounds(ctx, attrs.evolve(current.deployment, tp=current.min_tp))


# --------------------------------------------------------------------------- entry point


def compute_facts(
    scenario: Scenario,
    catalog: Catalog | None = None,
    conventions: Conventions | None = None,
    as_of: dt.date | None = None,
) -> Facts:
    """Every fact the rules read, for ``scenario``, decided on ``as_of`` (default: the scenario's
    ``as_of``, else today); a provider's prices are its newest snapshot on or before that date."""
    from blackwell_decide.perf import Workload
    from blackwell_decide.resolve import resolve_model

    if catalog is None:
        from blackwell_decide.plugins import get_catalog

        catalog = get_catalog()
    conventions = conventions or Conventions()
    model = resolve_model(catalog, scenario.model, scenario.model_config)
    as_of = as_of or scenario.as_of or dt.date.today()
    try:
        snapshots = tuple(price_sources(catalog, scenario.prices, as_of))
    except UsageError as exc:
        raise ScenarioError(str(scenario.path), [str(exc)]) from None
    w = scenario.workload
    isl, osl = max(1, round(w.input_tokens)), max(1, round(w.output_tokens))
    traffic = Traffic(
        requests_per_s=w.peak_requests_per_s, isl=w.input_tokens, osl=w.output_tokens, peak_to_average=w.peak_to_average
    )
    ctx = _Context(
        scenario,
        catalog,
        model,
        snapshots,
        as_of,
        traffic,
        Workload(isl=isl, osl=osl),
        w.tokens_per_s_per_user,
        conventions,
    )
    specs = _specs(ctx)
    current = _build_option(ctx, specs[0])
    options: list[OptionFacts] = []
    derived_options: list[OptionFacts] = []
    for spec in specs[1:]:
        options.append(_build_option(ctx, spec))
        derived_options.extend(_build_option(ctx, alt) for alt in _alternatives(ctx, spec))
    moves = (*options, *derived_options)
    check = _fleet_check(ctx, specs[0], current)
    retune = _retune(ctx, specs[0], current)
    rightsized_comparisons: dict[str, Comparison] = {}
    retuned_comparisons: dict[str, Comparison] = {}
    if check.rightsized is not None:
        rightsized = check.rightsized
        rightsized_comparisons = {o.id: c for o in moves if (c := _compare(ctx, rightsized, o)) is not None}
        derived_options.append(rightsized)
    if retune.option is not None:
        retuned = retune.option
        retuned_comparisons = {o.id: c for o in moves if (c := _compare(ctx, retuned, o)) is not None}
        derived_options.append(retuned)
    all_options = (*options, *derived_options)
    comparisons = {o.id: c for o in moves if (c := _compare(ctx, current, o)) is not None}
    # A no-purchase option against today's fleet carries no one-time cost (computed with it).
    for option, against_today in ((check.rightsized, check.comparison), (retune.option, retune.comparison)):
        if option is not None and against_today is not None:
            comparisons[option.id] = against_today
    precision = {o.id: _precision(ctx, o) for o in options if o.low_bit}
    end = scenario.current.contract_end
    notes = []
    if len(w.mix) > 1:
        notes.append(
            f"the traffic mix is modelled at its mean lengths: {w.input_tokens:,.0f} input and "
            f"{w.output_tokens:,.0f} output tokens per request"
        )
    return Facts(
        scenario=scenario,
        as_of=as_of,
        model=model,
        traffic=traffic,
        tok_s_per_user=w.tokens_per_s_per_user,
        current=current,
        current_min_tp_bounds=_min_tp_bounds(ctx, current),
        options=all_options,
        comparisons=comparisons,
        precision=precision,
        triangulation=_triangulation(ctx, current, options),
        price_snapshots=snapshots,
        price_history=_price_history(ctx, (current, *all_options)),
        months_to_contract_end=months_between(as_of, end) if end and end > as_of else None,
        conventions=conventions,
        notes=tuple(notes),
        retune=retune,
        retuned_comparisons=retuned_comparisons,
        fleet_check=check,
        rightsized_comparisons=rightsized_comparisons,
    )


def cost_per_million_at(usd_per_gpu_hour: float, tok_s_per_gpu: float) -> float:
    """The cost formula for one price and one throughput (for flip points)."""
    return usd_per_gpu_hour / (tok_s_per_gpu * SECONDS_PER_HOUR) * PER_MILLION
