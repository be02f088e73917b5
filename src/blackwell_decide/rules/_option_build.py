"""The facts of one option: bounds, operating point at the service level, fleet size, bill,
power and rack fit."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from blackwell_decide.bounds import Bounds, Derived, smallest_fitting_tp
from blackwell_decide.economics import (
    Bill,
    BillTerms,
    CostTable,
    FleetPlan,
    GpuCapacity,
    Throughput,
    TokenBasis,
    cost_table,
    size_fleet,
    tokens_per_provisioned_mw,
)
from blackwell_decide.economics.mix import mix_throughput
from blackwell_decide.economics.sizing import fleet_bill, mix_capacity, point_capacity, sizing_bounds
from blackwell_decide.errors import DoesNotFitError, ScenarioError, UsageError
from blackwell_decide.model import (
    Deployment,
    PriceQuote,
    Source,
    SourceKind,
)
from blackwell_decide.rules._fact_context import (
    FactContext,
    all_quotes,
    power_basis,
    price_option,
    scenario_source,
)
from blackwell_decide.rules._mix_service import class_workloads, combine_points, mix_point_note
from blackwell_decide.rules._rack import rack_fit
from blackwell_decide.rules.option_facts import AUTO_TP, OptionFacts, PowerFacts, ServicePoint
from blackwell_decide.scenario import Ownership

# --------------------------------------------------------------------------- the operating point


def _service(
    ctx: FactContext, deployment: Deployment, engine: str, features: Any = None
) -> tuple[ServicePoint | None, str]:
    """The highest-throughput point meeting the service level (TPOT and, when set, TTFT); for a
    traffic mix, one such point per class (each class meets it on its own), combined."""
    mix = ctx.mix
    if mix.single:
        return _point(ctx, deployment, ctx.workload, engine, features)
    points = []
    for i, workload in enumerate(class_workloads(ctx)):
        point, why = _point(ctx, deployment, workload, engine, features)
        if point is None:
            c = mix.classes[i]
            return None, f"class {i + 1} of the mix ({c.isl:,.0f} in + {c.osl:,.0f} out): {why}"
        points.append(point)
    return combine_points(mix, points), ""


def _point(
    ctx: FactContext, deployment: Deployment, workload: Any, engine: str, features: Any
) -> tuple[ServicePoint | None, str]:
    """The highest-throughput point for requests of ``workload``'s shape meeting the service level."""
    from blackwell_decide.perf import at_interactivity
    from blackwell_decide.perf.service_level import within_ttft

    max_ttft = ctx.scenario.workload.max_ttft_s
    try:
        point = at_interactivity(
            deployment, workload, ctx.target, engine=engine, catalog=ctx.catalog, features=features
        )
    except UsageError as exc:
        return None, str(exc)
    if max_ttft is not None:
        found, shortest = within_ttft(
            deployment, workload, point, ctx.target, max_ttft, engine=engine, catalog=ctx.catalog, features=features
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


def option_bounds(ctx: FactContext, deployment: Deployment) -> Bounds:
    return sizing_bounds(deployment, ctx.conventions, ctx.traffic.isl, ctx.traffic.osl)


def _deployment(ctx: FactContext, spec: OptionSpec, weights: str, kv: str | None, tp: int) -> Deployment:
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
        # The registry entry carries a plugin engine's memory settings into the KV room.
        engine_spec=ctx.catalog.engines.get(spec.engine) if spec.engine in ctx.catalog.engines else None,
    )


def _features(ctx: FactContext, spec: OptionSpec) -> Any:
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


def _holds_max_context(ctx: FactContext, bounds: Bounds) -> bool:
    longest = ctx.scenario.workload.max_context_tokens
    return longest is None or bounds.value("kv_tokens") >= longest


# --------------------------------------------------------------------------- options


@attrs.frozen
class OptionSpec:
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


def build_option(ctx: FactContext, spec: OptionSpec) -> OptionFacts:
    probe = _deployment(ctx, spec, spec.weights, spec.kv, 1)
    min_tp = smallest_fitting_tp(probe, ctx.conventions) or AUTO_TP[-1]
    tried: list[tuple[int, str]] = []
    rates: list[tuple[int, float]] = []
    notes: list[str] = []
    if spec.tp is not None:
        deployment = _deployment(ctx, spec, spec.weights, spec.kv, spec.tp)
        try:
            bounds = option_bounds(ctx, deployment)
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
        deployment, bounds, service = _search_tp(ctx, spec, min_tp, tried, rates, notes)
    option = finish_option(ctx, spec, deployment, bounds, min_tp, tuple(tried), service, notes)
    return attrs.evolve(option, tp_throughput=tuple(rates)) if rates else option


def _search_tp(
    ctx: FactContext,
    spec: OptionSpec,
    min_tp: int,
    tried: list[tuple[int, str]],
    rates: list[tuple[int, float]],
    notes: list[str],
) -> tuple[Deployment, Bounds, ServicePoint | None]:
    """The tensor-parallel size (from the smallest the weights fit) that serves the most output
    per GPU at the service level, recording each size tried in ``tried``/``rates``; the smallest
    that fits, with no operating point, when none meets the service level."""
    best: tuple[float, int, Deployment, Bounds, ServicePoint] | None = None
    first: tuple[Deployment, Bounds] | None = None
    for tp in (t for t in AUTO_TP if t >= min_tp):
        deployment = _deployment(ctx, spec, spec.weights, spec.kv, tp)
        try:
            bounds = option_bounds(ctx, deployment)
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
        return best[2], best[3], best[4]
    if first is not None:
        notes.append(f"no tensor-parallel size up to {AUTO_TP[-1]} meets the service level")
        return first[0], first[1], None
    raise ScenarioError(
        str(ctx.scenario.path),
        [
            f"{spec.where}: {ctx.model.key} with {spec.weights} weights does not fit on up to "
            f"{AUTO_TP[-1]} × {spec.gpu}; choose a smaller weight format"
        ],
    )


def _capacity(
    ctx: FactContext, spec: OptionSpec, deployment: Deployment, bounds: Bounds, service: ServicePoint
) -> GpuCapacity:
    if service.classes:
        # A mix: the capacity rank and fleet --mix size it with (economics.sizing), one number.
        return mix_capacity(
            spec.label,
            deployment,
            bounds,
            ctx.mix,
            output_tok_s_per_gpu=[p.output_tok_s_per_gpu for p in service.classes],
            tok_s_per_user=[p.tok_s_per_user for p in service.classes],
            source=service.source,
            note=mix_point_note(ctx.mix, service),
        )
    return point_capacity(
        spec.label,
        deployment,
        bounds,
        output_tok_s_per_gpu=service.output_tok_s_per_gpu,
        tok_s_per_user=service.tok_s_per_user,
        isl=service.prediction.workload.isl,
        osl=service.prediction.workload.osl,
        source=service.source,
        note=f"{service.tok_s_per_user:.1f} tok/s per user at concurrency {service.concurrency:g} per replica",
    )


def finish_option(
    ctx: FactContext,
    spec: OptionSpec,
    deployment: Deployment,
    bounds: Bounds,
    min_tp: int,
    tried: tuple[tuple[int, str], ...],
    service: ServicePoint | None,
    notes: list[str],
) -> OptionFacts:
    acc = deployment.accelerator
    price = price_option(
        ctx, acc.key, spec.ownership, spec.tier, spec.explicit_price, acc.tdp_watts, spec.raw, spec.role
    )
    in_service = ctx.scenario.current.count if spec.role == "current" else None
    fleet, gpus, throughput, busiest = _carried(ctx, spec, deployment, bounds, service, price, in_service, notes)
    costs, out_cost, in_cost, bill = None, None, None, None
    if throughput is not None and gpus:
        costs, out_cost, in_cost, bill = _priced(ctx, spec, deployment, bounds, price, gpus, throughput, busiest, notes)
    elif price is None and spec.ownership is Ownership.RENTED:
        notes.append(f"no {spec.tier or ctx.scenario.prices.tier} price for {acc.key}")
    power = _power(ctx, deployment, throughput, gpus)
    rack = rack_fit(ctx, deployment, gpus) if spec.ownership is Ownership.OWNED else None
    at_min = bounds if deployment.tp == min_tp else option_bounds(ctx, attrs.evolve(deployment, tp=min_tp))
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
        monthly=bill.monthly if bill is not None else None,
        power=power,
        rack=rack,
        notes=tuple(notes),
        bill=bill,
        features=_features(ctx, spec),
        max_output_tok_s_per_gpu=busiest,
    )


def _carried(
    ctx: FactContext,
    spec: OptionSpec,
    deployment: Deployment,
    bounds: Bounds,
    service: ServicePoint | None,
    price: PriceQuote | None,
    in_service: int | None,
    notes: list[str],
) -> tuple[FleetPlan | None, int, Throughput | None, float | None]:
    """The modelled fleet, the GPUs the option is costed on, the per-GPU throughput they carry and
    (for today's fleet) the most output tokens/s a GPU can carry."""
    if service is None:
        if not in_service:
            return None, 0, None, None
        # No modelled operating point: the fleet in service is taken to carry the traffic.
        throughput = Throughput(
            tok_s_per_gpu=ctx.traffic.output_tok_s / in_service,
            basis=TokenBasis.OUTPUT,
            isl=ctx.traffic.isl,
            osl=ctx.traffic.osl,
            source=scenario_source(ctx, "peak output tokens/s over the GPUs in service"),
            note="the model finds no operating point at the service level; the fleet in service is assumed "
            "to carry the peak",
        )
        notes.append(
            f"the current cost is that of the {in_service} GPUs in service, each carrying "
            f"{throughput.tok_s_per_gpu:,.0f} output tok/s at peak"
        )
        return None, in_service, throughput, None
    busiest = None
    if in_service:
        busiest = busiest_output_tok_s_per_gpu(ctx, deployment, spec.engine, _features(ctx, spec))
    fleet = size_fleet(ctx.traffic, _capacity(ctx, spec, deployment, bounds, service), [price] if price else [])
    if service.classes:
        notes.append(mix_point_note(ctx.mix, service))
    notes.extend(fleet.notes)
    # Today's fleet costs what is declared; the modelled fleet is its check (FleetCheck).
    return fleet, in_service or fleet.gpus, fleet.capacity.throughput, busiest


def _priced(
    ctx: FactContext,
    spec: OptionSpec,
    deployment: Deployment,
    bounds: Bounds,
    price: PriceQuote | None,
    gpus: int,
    throughput: Throughput,
    busiest: float | None,
    notes: list[str],
) -> tuple[CostTable | None, Derived | None, Derived | None, Bill | None]:
    """The per-tier cost table, the option's own cost per 1M output and input tokens, and its bill."""
    acc = deployment.accelerator
    quotes = all_quotes(ctx, acc.key, price)
    costs = cost_table(acc.key, throughput, quotes, bases=(TokenBasis.OUTPUT, TokenBasis.INPUT)) if quotes else None
    if price is None:
        return costs, None, None, None
    effective = cost_table(acc.key, throughput, [price], bases=(TokenBasis.OUTPUT, TokenBasis.INPUT))
    out_cost = effective.line(price.tier, TokenBasis.OUTPUT).derivation
    in_cost = effective.line(price.tier, TokenBasis.INPUT).derivation
    carries = gpus * busiest if busiest is not None else None
    bill = _bill(ctx, spec, deployment, bounds, price, gpus, throughput.tok_s_per_gpu, out_cost.value, carries)
    if bill.share_served < 1.0:
        notes.append(
            f"the {gpus} GPUs in service carry at most {carries:,.0f} output tok/s (the model's busiest "
            f"operating point), {bill.share_served * 100:.2g}% of the average traffic: the realized cost "
            "per 1M tokens divides the bill by what they can serve"
        )
    return costs, out_cost, in_cost, bill


def busiest_output_tok_s_per_gpu(ctx: FactContext, deployment: Deployment, engine: str, features: Any) -> float:
    """The most output tokens/s per GPU any operating point of ``deployment`` carries (the
    throughput end of its frontier, whatever the latency); for a mix, each class at its busiest
    point, over the mix (economics.mix)."""
    from blackwell_decide.perf import frontier

    busiest = []
    for workload in class_workloads(ctx):
        curve = frontier(deployment, workload, engine=engine, catalog=ctx.catalog, features=features)
        busiest.append(float(np.max(np.asarray(curve.output_tok_s_per_gpu, dtype=float))))
    return mix_throughput(ctx.mix, busiest)


def _bill(
    ctx: FactContext,
    spec: OptionSpec,
    deployment: Deployment,
    bounds: Bounds,
    price: PriceQuote,
    gpus: int,
    output_tok_s_per_gpu: float,
    full_load_usd_per_million: float,
    max_output_tok_s: float | None = None,
) -> Bill:
    """The option's month under the scenario's terms: today's fleet paid as declared, every other
    option for the GPUs that hold the peak; a rented fleet the scenario lets autoscale, for the
    replicas its average traffic needs."""
    w = ctx.scenario.workload
    terms = BillTerms(
        autoscale=w.autoscale and spec.ownership is Ownership.RENTED,
        min_replicas=w.min_replicas,
    )
    return fleet_bill(
        gpus=gpus,
        tp=deployment.tp,
        bounds=bounds,
        quote=price,
        traffic=ctx.traffic,
        output_tok_s_per_gpu=output_tok_s_per_gpu,
        terms=terms,
        full_load_usd_per_million_output=full_load_usd_per_million,
        declared=spec.role == "current",
        max_output_tok_s=max_output_tok_s,
    )


def _power(ctx: FactContext, deployment: Deployment, throughput: Throughput | None, gpus: int) -> PowerFacts:
    facility = ctx.scenario.facility
    acc = deployment.accelerator
    basis = power_basis(ctx, acc.key)
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
