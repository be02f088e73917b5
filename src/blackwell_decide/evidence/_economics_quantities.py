"""Claims about throughput on a token basis, cost per token, cost ratios between tiers, fleet
size and cost, power efficiency and energy's share of TCO: each recomputed through the economics
layer, with the source's own reading of its evidence beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics import GpuCapacity, Throughput, TokenBasis, Traffic, size_fleet
from blackwell_decide.economics.cost import cost_per_million, cost_table, ratio_matrix
from blackwell_decide.economics.power import energy_share_of_tco
from blackwell_decide.evidence.readings import Calculator, Context, Reading, Recomputed
from blackwell_decide.evidence.records import get_record
from blackwell_decide.units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from blackwell_decide.model import PriceQuote


def _price(ctx: Context, gpu: str, tier: str) -> PriceQuote:
    from blackwell_decide.economics.prices import choose_prices

    key = ctx.catalog.accelerators.resolve(gpu)
    choice = choose_prices(ctx.catalog, key, provider=ctx.get("provider"), as_of=ctx.get("as_of"), tiers=(tier,))
    return choice.quotes[0]


def _throughputs(ctx: Context) -> tuple[Throughput, Throughput | None, str, list[str]]:
    """(the throughput the library uses, the source's own reading of it or None, description,
    notes).

    With ``evidence``, the record's value on the record's own basis and at the shape it was
    measured at is used, and a ``throughput_basis`` in the scenario is the source's reading of
    the same number."""
    if "evidence" in ctx.scenario:
        record = get_record(ctx.scenario["evidence"])
        used = record.throughput()
        if used.isl is None or used.osl is None:
            used = attrs.evolve(used, isl=ctx.get("measured_isl"), osl=ctx.get("measured_osl"))
        source_reading = None
        if "throughput_basis" in ctx.scenario:
            source_reading = attrs.evolve(used, basis=TokenBasis.parse(ctx.scenario["throughput_basis"]))
        notes = []
        if record.basis_note is not None:
            notes.append(
                f"{record.id} counts {record.basis_note.basis.value} tokens: {record.basis_note.how} "
                f"({'; '.join(record.basis_note.sources)})"
            )
        basis = record.token_basis.value if record.token_basis else "?"
        return used, source_reading, f"{record.id}: {used.tok_s_per_gpu:,.0f} {basis} tok/s per GPU", notes
    value = float(ctx.need("throughput"))
    basis_ = TokenBasis.parse(ctx.get("throughput_basis", "output"))
    return (
        Throughput(value, basis_, ctx.get("isl"), ctx.get("osl")),
        None,
        f"{value:,.0f} {basis_.value} tok/s per GPU as given",
        [],
    )


def _cost_per_million(ctx: Context) -> Recomputed:
    tier = ctx.get("tier", "on-demand")
    basis = TokenBasis.parse(ctx.get("basis", "output"))
    quote = _price(ctx, ctx.need("gpu"), tier)
    used, source_reading, described, notes = _throughputs(ctx)
    on_basis = used.on_basis(basis)
    value = float(cost_per_million(quote.usd_per_gpu_hour, on_basis.tok_s_per_gpu))
    readings = []
    causes = []
    if source_reading is not None:
        as_read = float(cost_per_million(quote.usd_per_gpu_hour, source_reading.on_basis(basis).tok_s_per_gpu))
        readings.append(
            Reading(
                f"the source's reading: {source_reading.tok_s_per_gpu:,.0f} counted as "
                f"{source_reading.basis.value} tokens",
                as_read,
            )
        )
        if source_reading.basis is not used.basis:
            causes.append(
                f"token basis: the evidence counts {used.basis.value} tokens; at {used.isl:g}/{used.osl:g} "
                f"input/output tokens per request that is {on_basis.tok_s_per_gpu:,.0f} {basis.value} tok/s, not "
                f"{source_reading.on_basis(basis).tok_s_per_gpu:,.0f}"
            )
    detail = (
        f"${quote.usd_per_gpu_hour:.2f}/GPU-h ({quote.provider} {quote.tier}, {quote.as_of.isoformat()}) / "
        f"({on_basis.tok_s_per_gpu:,.0f} {basis.value} tok/s × 3600) × 1e6"
    )
    return Recomputed(
        "USD/1M tokens",
        Reading(described, value, detail),
        readings,
        causes,
        notes,
        formula="cost_per_1M = price_per_gpu_hour / (X * 3600) * 1e6",
    )


def _cost_ratio(ctx: Context) -> Recomputed:
    from blackwell_decide.economics.prices import choose_prices

    basis = TokenBasis.parse(ctx.get("basis", "output"))
    tables = []
    for side in ("baseline", "candidate"):
        sub = ctx.sub(side)
        used, _, _, _ = _throughputs(sub)
        key = ctx.catalog.accelerators.resolve(sub.need("gpu"))
        choice = choose_prices(ctx.catalog, key, provider=sub.get("provider"), as_of=sub.get("as_of"))
        tables.append(cost_table(key, used, choice.quotes, (basis,)))
    matrix = ratio_matrix(tables[0], tables[1], basis)
    a_tier, b_tier = (
        ctx.get("baseline_tier", "on-demand"),
        ctx.get("candidate_tier", ctx.get("baseline_tier", "on-demand")),
    )
    main = matrix.cell(a_tier, b_tier)
    readings = [
        Reading(c.label, c.ratio, f"${c.baseline_usd_per_million:.3f} / ${c.candidate_usd_per_million:.4f} per 1M")
        for c in matrix.cells
        if c is not main
    ]
    detail = f"${main.baseline_usd_per_million:.3f} / ${main.candidate_usd_per_million:.4f} per 1M {basis.value} tokens"
    return Recomputed(
        "×",
        Reading(main.label, main.ratio, detail),
        readings,
        formula="ratio = cost_per_1M(baseline, tier_a) / cost_per_1M(candidate, tier_b)",
    )


def _throughput_on_basis(ctx: Context) -> Recomputed:
    """An evidence record's per-GPU rate on the basis the claim counts."""
    used, _, described, notes = _throughputs(ctx)
    basis = TokenBasis.parse(ctx.get("basis", "output"))
    value = used.on_basis(basis).tok_s_per_gpu
    readings, causes = [], []
    if used.basis is not basis:
        readings.append(Reading(f"the figure read as {basis.value} tokens", used.tok_s_per_gpu))
        causes.append(
            f"token basis: the figure counts {used.basis.value} tokens; {basis.value} tokens are "
            f"{used.share(basis):.0%} of them at {used.isl:g}/{used.osl:g} input/output tokens per request"
        )
    return Recomputed("tok/s/GPU", Reading(f"{basis.value} tokens", value, described), readings, causes, notes)


def _extrapolated(ctx: Context) -> Recomputed:
    """anchor ÷ ratio (to the intermediate GPU) ÷ bandwidth ratio (intermediate → target)."""
    anchor = get_record(ctx.need("evidence"))
    ratio = get_record(ctx.need("ratio_evidence"))
    figures = ctx.source_conventions.figures
    via = ctx.catalog.accelerators.get(ratio.baseline_gpu or ctx.need("via_gpu"))
    target = ctx.catalog.accelerators.get(ctx.need("gpu"))
    if figures:
        via, target = via.with_figures(figures), target.with_figures(figures)
    intermediate = anchor.value / ratio.value
    if via.key == target.key:
        return Recomputed(
            "tok/s/GPU",
            Reading(f"{via.name}", intermediate, f"{anchor.value:,.0f} / {ratio.value:g}"),
            formula="X_via = X_anchor / ratio_vs_via",
        )
    scale = via.hbm_bandwidth / target.hbm_bandwidth
    value = intermediate / scale
    readings = [Reading(f"{via.name} itself", intermediate, f"{anchor.value:,.0f} / {ratio.value:g}")]
    notes = []
    if ctx.claimed:
        needed = intermediate / ctx.claimed
        notes.append(
            f"the claimed {ctx.claimed:,.0f} would need {via.name}/{target.name} = {needed:.2f}×, not the "
            f"bandwidth ratio {scale:.2f}×"
        )
    detail = (
        f"{anchor.value:,.0f} / {ratio.value:g} = {intermediate:,.0f} for {via.name}; "
        f"/ ({via.hbm_bandwidth / 1e12:g} / {target.hbm_bandwidth / 1e12:g} = {scale:.2f}) = {value:,.0f} "
        f"for {target.name}"
    )
    return Recomputed(
        "tok/s/GPU",
        Reading("bandwidth extrapolation", value, detail),
        readings,
        (),
        notes,
        formula="X_target = X_anchor / ratio_vs_via / (BW_via / BW_target)",
    )


def _fleet_plan(ctx: Context) -> Any:
    from blackwell_decide.economics.prices import choose_prices

    traffic = Traffic(
        float(ctx.need("requests_per_s")),
        float(ctx.need("isl")),
        float(ctx.need("osl")),
        float(ctx.get("peak_to_average", 1.0)),
    )
    used, source_reading, _, _ = _throughputs(ctx)
    key = ctx.catalog.accelerators.resolve(ctx.need("gpu"))
    quotes = choose_prices(ctx.catalog, key, provider=ctx.get("provider"), as_of=ctx.get("as_of")).quotes

    def plan(throughput: Throughput) -> Any:
        rate = attrs.evolve(throughput, isl=throughput.isl or traffic.isl, osl=throughput.osl or traffic.osl)
        return size_fleet(traffic, GpuCapacity(key, key, rate), quotes)

    return traffic, plan(used), plan(source_reading) if source_reading else None, used, source_reading


def _fleet(what: str) -> Calculator:
    def calculate(ctx: Context) -> Recomputed:
        traffic, plan, source_plan, used, source_reading = _fleet_plan(ctx)

        def value_of(p: Any) -> float:
            if what == "gpus":
                return float(p.gpus)
            if what == "monthly_usd":
                return float(p.monthly_cost(ctx.get("tier", "on-demand")).usd_per_month)
            if what == "gpu_hours_per_peak_hour":
                return float(p.autoscaling.gpu_hours_per_peak_hour_equivalent.value)
            if what == "output_tok_s":
                return float(traffic.output_tok_s)
            return float(traffic.input_tok_s)

        per_gpu = plan.capacity.output_tok_s_per_gpu
        price = _price(ctx, ctx.need("gpu"), ctx.get("tier", "on-demand")) if what == "monthly_usd" else None
        details = {
            "gpus": f"ceil({traffic.output_tok_s:,.0f} / {per_gpu:,.0f}) = {plan.gpus}",
            "monthly_usd": f"{plan.gpus} × ${price.usd_per_gpu_hour if price else 0:.2f} × {HOURS_PER_MONTH:g} h",
            "gpu_hours_per_peak_hour": f"{plan.gpus} GPUs × peak/average {traffic.peak_to_average:g}",
            "output_tok_s": f"{traffic.requests_per_s:g} req/s × {traffic.osl:g}",
            "input_tok_s": f"{traffic.requests_per_s:g} req/s × {traffic.isl:g}",
        }
        readings, causes = [], []
        if source_plan is not None and source_reading is not None:
            readings.append(
                Reading(
                    f"the source's reading: {source_reading.tok_s_per_gpu:,.0f} counted as "
                    f"{source_reading.basis.value} tokens",
                    value_of(source_plan),
                )
            )
            if source_reading.basis is not used.basis:
                causes.append(
                    f"token basis: the evidence counts {used.basis.value} tokens, so {per_gpu:,.0f} output "
                    f"tok/s per GPU, not {source_plan.capacity.output_tok_s_per_gpu:,.0f}"
                )
        unit = {"gpus": "GPUs", "monthly_usd": "USD/month", "gpu_hours_per_peak_hour": "GPU-h"}.get(what, "tok/s")
        return Recomputed(unit, Reading("fleet sizing", value_of(plan), details[what]), readings, causes)

    return calculate


def _fleet_savings(ctx: Context) -> Recomputed:
    base, cand = ctx.sub("baseline"), ctx.sub("candidate")
    a_tier, b_tier = (
        ctx.get("baseline_tier", "on-demand"),
        ctx.get("candidate_tier", ctx.get("baseline_tier", "on-demand")),
    )
    _, a_plan, _, _, _ = _fleet_plan(base)
    _, b_plan, _, _, _ = _fleet_plan(cand)
    main = a_plan.monthly_cost(a_tier).usd_per_month - b_plan.monthly_cost(b_tier).usd_per_month
    readings = [
        Reading(
            f"baseline {x.tier} − candidate {y.tier}" + (" (mixed tiers)" if x.tier != y.tier else ""),
            x.usd_per_month - y.usd_per_month,
        )
        for x in a_plan.monthly
        for y in b_plan.monthly
        if (x.tier, y.tier) != (a_tier, b_tier)
    ]
    detail = f"${a_plan.monthly_cost(a_tier).usd_per_month:,.0f} − ${b_plan.monthly_cost(b_tier).usd_per_month:,.0f}"
    return Recomputed("USD/month", Reading(f"baseline {a_tier} − candidate {b_tier}", main, detail), readings)


def _power_ratio(ctx: Context) -> Recomputed:
    """Throughput ratio × baseline power ÷ candidate power (tokens per provisioned MW, same site)."""
    figures = ctx.source_conventions.figures
    cand = ctx.catalog.accelerators.get(ctx.need("gpu"))
    base = ctx.catalog.accelerators.get(ctx.need("baseline_gpu"))
    if figures:
        cand, base = cand.with_figures(figures), base.with_figures(figures)
    ratio = float(ctx.need("throughput_ratio"))
    value = ratio * base.tdp_watts / cand.tdp_watts
    detail = f"{ratio:g} × {base.tdp_watts:g} W / {cand.tdp_watts:g} W"
    return Recomputed(
        "×", Reading("throughput ratio over power ratio", value, detail), formula="ratio = (X_c / X_b) * (P_b / P_c)"
    )


def _energy_share(ctx: Context) -> Recomputed:
    impact = energy_share_of_tco(float(ctx.need("efficiency_gap")), float(ctx.need("energy_share")))
    gap, share = impact.efficiency_gap, impact.energy_share
    exact = Reading(
        "energy per token rises by 1/(1 − gap)",
        impact.exact.value * 100,
        f"{share:.0%} × (1/(1 − {gap:.0%}) − 1) = {share:.0%} × {1 / (1 - gap) - 1:.0%}",
    )
    linear = Reading("first-order: gap × share", impact.linear.value * 100, f"{gap:.0%} × {share:.0%}")
    cause = f"{gap:.0%} fewer tokens per MW means {1 / (1 - gap) - 1:.0%} more energy per token, not {gap:.0%}"
    return Recomputed("% of TCO", exact, (linear,), (cause,), formula=impact.exact.formula)


#: The quantities of throughput, price, fleet, power and TCO a claim can be about.
CALCULATORS: dict[str, Calculator] = {
    "cost_per_million": _cost_per_million,
    "cost_ratio": _cost_ratio,
    "throughput": _throughput_on_basis,
    "extrapolated_throughput": _extrapolated,
    "fleet_savings_usd": _fleet_savings,
    "power_efficiency_ratio": _power_ratio,
    "energy_share_of_tco": _energy_share,
}
CALCULATORS.update(
    {
        f"fleet_{what}": _fleet(what)
        for what in ("gpus", "monthly_usd", "gpu_hours_per_peak_hour", "output_tok_s", "input_tok_s")
    }
)
