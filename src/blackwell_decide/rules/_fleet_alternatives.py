"""Which options to build (today's fleet, candidates and their fallbacks), today's fleet re-tuned
and right-sized, comparisons between options, and the confidence inputs (precision evidence,
triangulation, price history)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from blackwell_decide.bounds import Bounds, speedup
from blackwell_decide.economics import (
    TokenBasis,
    break_even_price,
    payback,
    ratio_matrix,
)
from blackwell_decide.errors import ScenarioError
from blackwell_decide.model import (
    PriceQuote,
)
from blackwell_decide.rules._fact_context import FactContext, find_quote, slug
from blackwell_decide.rules._mix_service import mix_delivered
from blackwell_decide.rules._option_build import OptionSpec, build_option, finish_option, option_bounds
from blackwell_decide.rules.option_facts import (
    DEFAULT_ENGINE,
    FALLBACK_WEIGHTS,
    LOW_BIT_ELEMENT_BITS,
    RETUNED_ID,
    RETUNED_ROLE,
    RIGHTSIZED_ID,
    RIGHTSIZED_ROLE,
    Comparison,
    FleetCheck,
    OptionFacts,
    PrecisionFacts,
    Retune,
)
from blackwell_decide.rules.precision import accuracy_records, stack_support
from blackwell_decide.scenario import Ownership

if TYPE_CHECKING:
    from blackwell_decide.evidence.triangulation import Triangulation


def option_specs(ctx: FactContext) -> list[OptionSpec]:
    s = ctx.scenario
    cur = s.current
    stack = s.constraints.serving_stack
    specs = [
        OptionSpec(
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
            OptionSpec(
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


def fallback_specs(ctx: FactContext, candidate: OptionSpec) -> list[OptionSpec]:
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
        if find_quote(ctx, candidate.gpu, tier) is not None:
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


def _gpu_name(ctx: FactContext, gpu: str) -> str:
    name = ctx.catalog.accelerators.get(gpu).name
    return name.replace("NVIDIA ", "")


def _fleet_label(ctx: FactContext, gpu: str, weights: str, tp: int, how: str) -> str:
    return f"{_gpu_name(ctx, gpu)} {weights.upper()}" + (f" TP={tp}" if tp > 1 else "") + f" ({how})"


def _tok_s_per_gpu(ctx: FactContext, option: OptionFacts) -> float | None:
    """Output per GPU at the service level; for a fleet with no modelled operating point, the
    peak spread over the GPUs in service (what its cost is computed from)."""
    if option.service is not None:
        return option.service.output_tok_s_per_gpu
    if option.gpus_in_service:
        return ctx.traffic.output_tok_s / option.gpus_in_service
    return None


def build_retune(ctx: FactContext, spec: OptionSpec, current: OptionFacts) -> Retune:
    """The current fleet's GPUs, weights, KV format, engine and price at the TP the automatic
    search picks; an option only when it serves strictly more output per GPU than today's TP."""
    try:
        searched = build_option(
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
        comparison = compare_options(ctx, current, option, one_time=0.0)
    return Retune(
        configured_tp=current.tp,
        best_tp=best_tp,
        tried=searched.tp_tried,
        throughput=searched.tp_throughput,
        option=option,
        comparison=comparison,
    )


def build_fleet_check(ctx: FactContext, spec: OptionSpec, current: OptionFacts) -> FleetCheck:
    """The declared fleet against the modelled one; the right-sized fleet when they disagree."""
    declared = current.gpus_in_service or current.gpus
    check = FleetCheck(
        declared=declared,
        modelled=current.modelled_gpus,
        tolerance=ctx.scenario.thresholds.fleet_mismatch_fraction,
        required_tok_s_per_gpu=ctx.traffic.output_tok_s / declared,
        target_tok_s_per_user=ctx.target,
        per_gpu_at_target=current.service.output_tok_s_per_gpu if current.service is not None else None,
        band_high=current.service.band[1] if current.service is not None else 0.0,
    )
    if check.short and current.service is not None:
        delivered, busiest = _delivered(ctx, current, check.required_tok_s_per_gpu)
        check = attrs.evolve(check, delivered_tok_s_per_user=delivered, max_tok_s_per_gpu=busiest)
    grows_owned = check.short and current.ownership is Ownership.OWNED
    if not (check.short or check.over) or grows_owned or current.service is None:
        return check
    sized = finish_option(
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
    return attrs.evolve(check, rightsized=sized, comparison=compare_options(ctx, current, sized, one_time=0.0))


def _delivered(ctx: FactContext, current: OptionFacts, required_tok_s_per_gpu: float) -> tuple[float | None, float]:
    """Tokens/s per user at the least busy operating point that carries ``required_tok_s_per_gpu``
    output tokens/s per GPU (None when none does), and the most any operating point carries."""
    from blackwell_decide.perf import frontier

    if not ctx.mix.single:
        delivered, busiest_mix = mix_delivered(
            ctx, current.deployment, current.engine, current.features, required_tok_s_per_gpu
        )
        held = current.max_output_tok_s_per_gpu
        return delivered, busiest_mix if held is None else held
    curve = frontier(
        current.deployment, ctx.workload, engine=current.engine, catalog=ctx.catalog, features=current.features
    )
    rate = np.asarray(curve.output_tok_s_per_gpu, dtype=float)
    user = np.asarray(curve.tok_s_per_user, dtype=float)
    enough = np.flatnonzero(rate >= required_tok_s_per_gpu)
    delivered = float(user[enough[0]]) if enough.size else None
    # The busiest point is the one the option's bill was capped by: one number, computed once.
    busiest = current.max_output_tok_s_per_gpu
    return delivered, float(rate.max()) if busiest is None else busiest


def compare_options(
    ctx: FactContext, current: OptionFacts, option: OptionFacts, *, one_time: float | None = None
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


def build_precision(ctx: FactContext, option: OptionFacts) -> PrecisionFacts:
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


def build_triangulation(ctx: FactContext, current: OptionFacts, options: Sequence[OptionFacts]) -> Triangulation | None:
    """The published evidence for this pair, where there is any: B200 NVFP4 over today's H100 or
    H200 at FP8, for Llama 70B."""
    from blackwell_decide.rules._evidence_pair import pair_triangulation

    return pair_triangulation(ctx.catalog, ctx.model.key, current, options)


def collect_price_history(ctx: FactContext, options: Sequence[OptionFacts]) -> tuple[PriceQuote, ...]:
    """Every dated catalog quote up to the decision date, from the providers the scenario prices
    with, for its GPUs: how far a price has moved is a risk the memo reports (a quote dated after
    the decision was not known when it was made, and the memo's prices are those on or before it)."""
    providers = {snap.provider.lower() for snap in ctx.snapshots}
    gpus = {o.accelerator for o in options}
    quotes = [
        q
        for snap in ctx.catalog.prices.values()
        if snap.provider.lower() in providers
        for q in snap.quotes
        if q.accelerator in gpus and q.as_of <= ctx.as_of
    ]
    return tuple(sorted(quotes, key=lambda q: (q.accelerator, q.tier, q.as_of, q.provider, q.usd_per_gpu_hour)))


def min_tp_bounds(ctx: FactContext, current: OptionFacts) -> Bounds | None:
    if current.tp <= current.min_tp:
        return None
    return option_bounds(ctx, attrs.evolve(current.deployment, tp=current.min_tp))
