"""What every option's facts share (the scenario, catalog, model, prices, traffic) and the price
each option pays."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics import (
    Traffic,
)
from blackwell_decide.economics.mix import MixClass, TrafficMix
from blackwell_decide.economics.provisioning import PowerBasis, default_power_basis
from blackwell_decide.errors import ScenarioError
from blackwell_decide.model import (
    Conventions,
    ModelArch,
    PriceQuote,
    PriceSnapshot,
    Source,
    SourceKind,
)
from blackwell_decide.rules.option_facts import RETUNED_ROLE, RIGHTSIZED_ROLE
from blackwell_decide.scenario import Ownership, Scenario
from blackwell_decide.units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

# --------------------------------------------------------------------------- helpers

#: Roles priced like the fleet in service: the same quote, or for owned GPUs the same marginal cost.
_PRICED_AS_CURRENT = frozenset({"current", RETUNED_ROLE, RIGHTSIZED_ROLE})
HOURS_PER_YEAR = 8760.0


def slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "option"


def months_between(start: dt.date, end: dt.date) -> float:
    return (end - start).days / (365.0 / 12.0)


@attrs.frozen
class FactContext:
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

    @property
    def mix(self) -> TrafficMix:
        """The traffic as its classes (one class for a single shape): what every option is sized for."""
        return traffic_mix(self.scenario, self.traffic)


def traffic_mix(scenario: Scenario, traffic: Traffic) -> TrafficMix:
    """``scenario``'s ``[[workload.mix]]`` as the economics' :class:`TrafficMix`, at ``traffic``'s
    peak rate; one shape is ``traffic`` itself. ``decide`` and ``rank SCENARIO`` size this one mix."""
    w = scenario.workload
    if len(w.mix) == 1:
        return TrafficMix.of(traffic)
    classes = tuple(MixClass(c.share, c.input_tokens, c.output_tokens) for c in w.mix)
    return TrafficMix(traffic.requests_per_s, classes, traffic.peak_to_average)


def scenario_source(ctx: FactContext, title: str) -> Source:
    return Source(url=ctx.scenario.path.name, date=ctx.as_of.isoformat(), kind=SourceKind.USER, title=title)


def find_quote(ctx: FactContext, gpu: str, tier: str) -> PriceQuote | None:
    for snap in ctx.snapshots:
        found = snap.price(gpu, tier)
        if found is not None:
            return found
    return None


def all_quotes(ctx: FactContext, gpu: str, effective: PriceQuote | None) -> list[PriceQuote]:
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


def _marginal_quote(ctx: FactContext, gpu: str, watts: float, explicit: float | None) -> PriceQuote:
    """What running one owned GPU costs per hour: power at the site's PUE and price, plus hosting."""
    facility = ctx.scenario.facility
    if explicit is not None:
        return PriceQuote(
            "owned",
            gpu,
            "marginal",
            explicit,
            ctx.as_of,
            scenario_source(ctx, "marginal cost per GPU-hour given in the scenario"),
        )
    if facility is None:  # the scenario loader requires [facility] for owned fleets
        raise ScenarioError(str(ctx.scenario.path), ["facility: an owned fleet needs a [facility] table"])
    basis = power_basis(ctx, gpu)
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


def _owned_candidate_quote(ctx: FactContext, gpu: str, watts: float, spec: Any) -> PriceQuote:
    if spec.usd_per_gpu_hour is not None:
        return PriceQuote(
            "owned",
            gpu,
            "owned",
            spec.usd_per_gpu_hour,
            ctx.as_of,
            scenario_source(ctx, "owned cost per GPU-hour given in the scenario"),
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


def price_option(
    ctx: FactContext,
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
            scenario_source(ctx, "price per GPU-hour given in the scenario"),
        )
    return find_quote(ctx, gpu, tier)


def power_basis(ctx: FactContext, gpu: str) -> PowerBasis:
    """All-in power per GPU: the scenario's [facility] figures where given, else the GPU's
    reference-system overhead and the survey PUE (economics.provisioning)."""
    basis = default_power_basis(gpu)
    facility = ctx.scenario.facility
    if facility is None:
        return basis
    given = scenario_source(ctx, "facility power figures given in the scenario")
    if facility.server_overhead is not None:
        basis = attrs.evolve(basis, server_overhead=facility.server_overhead, overhead_source=given, note="")
    if facility.pue is not None:
        basis = attrs.evolve(basis, pue=facility.pue, pue_source=given)
    return basis
