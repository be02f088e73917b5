"""The memo's charts from a decision: the numbers each chart of :mod:`.charts` draws (decode
floor, KV room, roofline, evidence, cost by tier, tokens per megawatt), as SVG by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from blackwell_decide.report import charts
from blackwell_decide.report._option_view import tier_table
from blackwell_decide.units import GB, MS

if TYPE_CHECKING:
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import OptionFacts


def chart_data(decision: Decision, shown: Sequence[OptionFacts]) -> dict[str, str]:
    """Every chart of the memo as SVG, by name, in the order the memo shows them."""
    facts = decision.facts
    everyone = [facts.current, *shown]
    chosen = decision.recommendation.option
    svg = _bound_charts(everyone, chosen)
    svg["triangulation"] = _evidence_chart(facts, shown, chosen)
    svg["cost-by-tier"] = _cost_chart(decision, shown, everyone)
    svg["tokens-per-mw"] = charts.bar_chart(
        "tokens-per-mw",
        "Output tokens per second per provisioned megawatt",
        [
            charts.Bar(o.label, o.power.tokens_per_mw.value / 1e6 if o.power.tokens_per_mw else 0.0, "", o.id == chosen)
            for o in everyone
        ],
        unit="M tok/s per MW",
        caption="at the service level; provisioned = GPU board power × (1 + server overhead) × PUE",
    )
    return svg


def _bound_charts(everyone: Sequence[OptionFacts], chosen: str | None) -> dict[str, str]:
    """The physical bounds: decode floor, KV room and the roofline."""
    svg: dict[str, str] = {}
    svg["decode-floor"] = charts.bar_chart(
        "decode-floor",
        "Decode floor per token at batch 1",
        [
            charts.Bar(
                o.label,
                o.bounds.value("decode_floor_s") / MS,
                f"ceiling {o.bounds.value('per_user_ceiling_tok_s'):.0f} tok/s/user",
                o.id == chosen,
            )
            for o in everyone
        ],
        unit="ms",
        caption="streamed bytes ÷ (TP × HBM bandwidth); a lower bound real systems approach from above",
    )
    svg["kv-budget"] = charts.bar_chart(
        "kv-budget",
        "KV-cache room per GPU after the weights",
        [
            charts.Bar(
                o.label,
                o.bounds.value("kv_budget_bytes") / GB,
                f"{o.bounds.value('kv_tokens') / o.tp:,.0f} tokens per GPU",
                o.id == chosen,
            )
            for o in everyone
        ],
        unit="GB",
        caption="device memory − resident weights − runtime reserve (device-reported bytes)",
    )
    seen: dict[tuple[str, str], charts.RooflineSeries] = {}
    for o in everyone:
        acc = o.deployment.accelerator
        fmt = o.deployment.compute_format
        seen.setdefault(
            (acc.key, fmt),
            charts.RooflineSeries(
                f"{acc.name.replace('NVIDIA ', '')} {fmt.upper()}",
                acc.peak_flops(fmt),
                acc.hbm_bandwidth,
                o.bounds.value("decode_intensity"),
                f"decode at {o.bounds.value('decode_intensity'):.2f} FLOP/byte",
            ),
        )
    svg["roofline"] = charts.roofline_chart(
        "roofline",
        "Roofline: where batch-1 decode sits",
        list(seen.values()),
        caption="dense peak FLOP/s of the format the matmuls run in; dashed: ridge point",
    )
    return svg


def _evidence_chart(facts: Facts, shown: Sequence[OptionFacts], chosen: str | None) -> str:
    """The published estimates against the model where a measurement pairs the GPUs, else the
    model's own ratios over the current fleet."""
    tri = facts.triangulation
    if tri is not None:
        estimates = [charts.Estimate(e.label, e.restated) for e in tri.estimates]
        reference = None
        cmp_ = facts.comparisons.get(chosen or "")
        best = facts.option(chosen) if chosen else None
        # Published estimates compare each GPU at its best serving setup: the model's reference is the
        # candidate against today's GPUs at the TP the verdict is decided on (the baseline), not against
        # a fleet held at a TP that serves less per GPU.
        base = facts.baseline
        if best is not None and best.service and base.service and base.accelerator == facts.current.accelerator:
            reference = charts.Estimate(
                f"this model at the service level (against {base.label})",
                best.service.output_tok_s_per_gpu / base.service.output_tok_s_per_gpu,
            )
        elif cmp_ is not None:
            reference = charts.Estimate("decode floor", cmp_.floor_speedup.value)
        return charts.triangulation_chart(
            "triangulation",
            f"Evidence: {tri.candidate} over {tri.baseline} throughput",
            estimates,
            band=(tri.low, tri.high),
            reference=reference,
            caption=f"restated on the {tri.baseline} baseline; {tri.verdict}",
        )
    estimates = []
    for o in shown:
        c = facts.comparisons.get(o.id)
        if c is None:
            continue
        estimates.append(charts.Estimate(f"{o.label}: decode floor", c.floor_speedup.value))
        if o.service and facts.current.service:
            estimates.append(
                charts.Estimate(
                    f"{o.label}: at the service level",
                    o.service.output_tok_s_per_gpu / facts.current.service.output_tok_s_per_gpu,
                )
            )
    return charts.triangulation_chart(
        "triangulation",
        "Throughput ratios over the current fleet",
        estimates,
        band=None,
        caption="no published measurement pairs these deployments; physics and the calibrated model only",
    )


def _cost_chart(decision: Decision, shown: Sequence[OptionFacts], everyone: Sequence[OptionFacts]) -> str:
    """Cost per 1M output tokens of every option shown, grouped by price tier."""
    from blackwell_decide.economics import TokenBasis

    table = tier_table(decision, shown)
    groups = []
    for tier in table["tiers"]:
        values: list[float | None] = []
        for o in everyone:
            if o.costs is not None and tier in o.costs.tiers:
                values.append(o.costs.line(tier, TokenBasis.OUTPUT).usd_per_million)
            else:
                values.append(None)
        groups.append(charts.BarGroup(tier, tuple(values)))
    return charts.grouped_bar_chart(
        "cost-by-tier",
        "Cost per 1M output tokens by price tier",
        groups,
        [o.label for o in everyone],
        unit="USD per 1M output tokens",
        caption="price per GPU-hour ÷ (output tok/s per GPU at the service level × 3600)",
    )
