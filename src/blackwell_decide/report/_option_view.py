"""The memo's view of each option shown: its bounds, service level, fleet, rack and comparison as
pre-formatted strings, and the cost table by price tier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from blackwell_decide.formatting import cheaper_or_dearer, months_words, num, pct, times, usd
from blackwell_decide.units import GB, KB, MS

if TYPE_CHECKING:
    from blackwell_decide.rules import Decision
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts, RackFit, ServicePoint


def shown_options(decision: Decision) -> list[OptionFacts]:
    """Candidates, and the alternatives an applying situation put forward."""
    facts = decision.facts
    added = {oid for f in decision.findings if f.applies for oid in f.adds}
    return [o for o in facts.options if o.role == "candidate" or o.id in added]


def option_view(decision: Decision, o: OptionFacts) -> dict[str, Any]:
    """One option: its bounds and money, then its service level, fleet, rack and comparison
    (each None where the option has none)."""
    facts = decision.facts
    # One baseline everywhere: every option is shown against the fleet the verdict is decided on.
    comparison = facts.comparisons_against(facts.baseline.id).get(o.id) if o is not facts.baseline else None
    view = _bounds_and_money(o)
    view["service"] = _service_view(o.service) if o.service is not None else None
    view["fleet"] = _fleet_view(o) if o.fleet is not None else None
    view["rack"] = _rack_view(o.rack) if o.rack is not None else None
    view["comparison"] = _comparison_view(comparison) if comparison is not None else None
    # An option a rule ruled out keeps its figures (what it would have cost) but says it cannot be chosen.
    view["excluded"] = next((e.reason for e in decision.recommendation.excluded if e.option == o.id), None)
    if view["comparison"] is not None:
        # The speed-up is against the fleet the verdict is decided on, which need not be today's.
        base = facts.baseline
        ratio = comparison.floor_speedup.value if comparison is not None else 1.0
        view["comparison"]["floor_change"] = (
            f"{base.bounds.decode_floor_s * 1e3:.2f} → {o.bounds.decode_floor_s * 1e3:.2f} ms, "
            + (f"{times(ratio)} lower" if ratio >= 1 else f"{times(1 / ratio)} higher")
            + f" than {base.label}"
        )
    return view


def _bounds_and_money(o: OptionFacts) -> dict[str, Any]:
    b = o.bounds
    lengths = [L for L in b.seq_lens]
    return {
        "id": o.id,
        "label": o.label,
        "role": o.role,
        "gpu": o.deployment.accelerator.name,
        "gpu_key": o.accelerator,
        "weights": o.weights,
        "kv": o.deployment.scheme.kv_cache.key,
        "tp": o.tp,
        "engine": o.engine,
        "ownership": o.ownership.value,
        "floor_ms": num(b.value("decode_floor_s") / MS, 2),
        "ceiling": num(b.value("per_user_ceiling_tok_s"), 1),
        "streamed_gb": num(b.value("streamed_bytes") / GB, 1),
        "resident_gb": num(b.value("resident_bytes") / GB, 1),
        "kv_room_gb": num(b.value("kv_budget_bytes") / GB, 1),
        "kv_per_token_kb": num(b.value("kv_bytes_per_token") / KB, 1),
        "kv_tokens": num(b.value("kv_tokens")),
        "concurrency": [(f"{L:,}", num(b.value(f"concurrency_at_{L}"), 1)) for L in lengths],
        "ridge": num(b.value("ridge_flops_per_byte")),
        "compute_format": o.deployment.compute_format,
        "intensity": num(b.value("decode_intensity"), 2),
        "fraction_of_peak": pct(b.value("decode_fraction_of_peak"), 3),
        "prefill_ceiling": num(o.prefill_ceiling_per_gpu),
        "gpus": o.gpus,
        "gpus_in_service": o.gpus_in_service,
        "gpus_text": (
            f"{o.gpus} declared ({o.modelled_gpus} by the model)"
            if o.role == "current" and o.modelled_gpus is not None
            else str(o.gpus)
        ),
        "price": usd(o.price.usd_per_gpu_hour, 2) if o.price else "–",
        "tier": o.price.tier if o.price else "–",
        "monthly": usd(o.monthly_usd),
        "cost_out": usd(o.cost_per_million_output.value, 3) if o.cost_per_million_output else "–",
        "cost_in": usd(o.cost_per_million_input.value, 3) if o.cost_per_million_input else "–",
        "watts": num(o.power.gpu_watts),
        "provisioned_watts": num(o.power.provisioned_watts),
        "fleet_kw": num(o.power.fleet_kw, 1),
        "tokens_per_mw": num(o.power.tokens_per_mw.value) if o.power.tokens_per_mw else "–",
        "notes": list(o.notes),
        "tp_tried": [f"TP={tp}: {outcome}" for tp, outcome in o.tp_tried],
    }


def _service_view(service: ServicePoint) -> dict[str, Any]:
    band = max(abs(service.band[0]), abs(service.band[1]))
    return {
        "tok_s_per_user": num(service.tok_s_per_user, 1),
        "tok_s_per_gpu": num(service.output_tok_s_per_gpu),
        "concurrency": num(service.concurrency),
        "tpot_ms": num(service.tpot_s / MS, 1),
        "ttft_ms": num(service.ttft_s / MS),
        "binding": service.binding,
        "band": f"±{band * 100:.0f} %",
        "extrapolated": service.extrapolated,
        "profile": service.profile,
    }


def _fleet_view(o: OptionFacts) -> dict[str, Any]:
    fleet = o.fleet
    assert fleet is not None
    # The share the prefill-heavy situation reads (the bill's prefill_time_share), not the fleet
    # check's peak-ceiling share: one figure, one definition, wherever the memo says "prefill share".
    return {
        "binding": fleet.binding,
        "decode_gpus": num(fleet.decode.value),
        "prefill_share": pct(o.bill.prefill_share) if o.bill is not None else "–",
        "kv_needed": num(fleet.kv.tokens_needed) if fleet.kv else "–",
        "kv_available": _kv_available(o) if fleet.kv else "–",
        "average_gpus": fleet.autoscaling.average_gpus if fleet.autoscaling else "–",
    }


def _kv_available(o: OptionFacts) -> str:
    """KV tokens the option's own GPUs hold: for today's fleet the declared count, not the count
    the model sized (16 declared H100s hold 16/43 of what 43 would), with whether the need fits."""
    fleet = o.fleet
    assert fleet is not None and fleet.kv is not None
    if o.role != "current" or o.gpus == fleet.gpus or fleet.gpus <= 0:
        return num(fleet.kv.tokens_available)
    held = fleet.kv.tokens_available / fleet.gpus * o.gpus
    fits = "fits" if fleet.kv.tokens_needed <= held else "does not fit"
    return f"{num(held)} on the {o.gpus} declared ({fits}; {num(fleet.kv.tokens_available)} on {fleet.gpus})"


def _rack_view(rack: RackFit) -> dict[str, Any]:
    return {
        "cooling": f"{rack.gpu_cooling.value} (site: {rack.site_cooling.value})",
        "cooling_ok": rack.cooling_ok,
        "server_kw": num(rack.server_kw, 1),
        "server": rack.server_words,
        "rack_kw": num(rack.rack_kw, 1),
        "gpus_per_rack": rack.gpus_per_rack,
        "racks": rack.racks_needed if rack.racks_needed is not None else "–",
        "fits": rack.fits,
    }


def _comparison_view(c: Comparison) -> dict[str, Any]:
    return {
        "tier": c.tier,
        "current_tier": c.current_tier,
        "current_monthly": usd(c.current_monthly_usd),
        "option_monthly": usd(c.option_monthly_usd),
        "savings": usd(c.monthly_savings_usd),
        "savings_fraction": pct(c.savings_fraction),
        "cost_ratio": cheaper_or_dearer(c.cost_ratio),
        "unit_cost_ratio": cheaper_or_dearer(c.unit_cost_ratio),
        "payback": months_words(c.payback.months) if c.monthly_savings_usd > 0 else "never",
        "break_even": usd(c.break_even.value, 2),
        "speedup": times(c.floor_speedup.value),
        "speedup_terms": " × ".join(f"{t.name} {t.value:.2f}×" for t in c.floor_speedup.terms),
        "speedup_formula": c.floor_speedup.formula,
    }


def tier_table(decision: Decision, shown: Sequence[OptionFacts]) -> dict[str, Any]:
    from blackwell_decide.economics import TokenBasis

    everyone = [decision.facts.current, *shown]
    tiers = sorted(
        {line.tier for o in everyone if o.costs for line in o.costs.lines},
        key=lambda t: (t not in ("on-demand", "marginal", "owned"), t),
    )
    rows = []
    for o in everyone:
        cells = []
        for tier in tiers:
            line = None
            if o.costs is not None and tier in o.costs.tiers:
                line = o.costs.line(tier, TokenBasis.OUTPUT)
            if line is None:
                cells.append({"price": "–", "out": "–", "in": "–"})
                continue
            inp = o.costs.line(tier, TokenBasis.INPUT) if o.costs else None
            cells.append(
                {
                    "price": usd(line.usd_per_gpu_hour, 2),
                    "out": usd(line.usd_per_million, 3),
                    "in": usd(inp.usd_per_million, 3) if inp else "–",
                }
            )
        rows.append({"label": o.label, "cells": cells})
    sources = sorted({line.quote.source.cite() for o in everyone if o.costs for line in o.costs.lines})
    return {"tiers": tiers, "rows": rows, "sources": sources}
