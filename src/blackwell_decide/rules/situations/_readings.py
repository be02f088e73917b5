"""The readings the built-in situations share: the cheapest option a rule may recommend, the
price flip points, and the throughput, fleet, speed-up and tier sentences every cost verdict
brings forward."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from blackwell_decide.formatting import change_words, cheaper_or_dearer
from blackwell_decide.rules.cost_reading import baseline_words
from blackwell_decide.rules.engine import left_out
from blackwell_decide.rules.finding import Finding, FlipPoint, Reason, Rule, cite
from blackwell_decide.rules.verdict import Verdict
from blackwell_decide.units import HOURS_PER_MONTH

if TYPE_CHECKING:
    # Only types: the rules read facts, they never compute them (and the plugin loads light).
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts


def cheapest(facts: Facts, options: Iterable[OptionFacts]) -> tuple[OptionFacts, Comparison] | None:
    """The option with the lowest monthly cost among those the facts could price."""
    priced = [(o, facts.comparisons[o.id]) for o in options if o.id in facts.comparisons]
    if not priced:
        return None
    return min(priced, key=lambda pair: (pair[1].option_monthly_usd, pair[0].id))


def prefill_share(facts: Facts, option: OptionFacts) -> float | None:
    """Share of the option's GPU time that goes to prefill (the bill's split, a lower bound from
    the prefill ceiling; None without a bill)."""
    return option.bill.prefill_share if option.bill is not None else None


def price_flips(c: Comparison, option: OptionFacts, facts: Facts) -> tuple[FlipPoint, ...]:
    """The candidate prices at which the cost verdict changes, against the baseline of ``c`` (the
    one the verdict is decided on)."""
    t = facts.scenario.thresholds
    price = option.price.usd_per_gpu_hour if option.price else None
    hold_above = (1.0 - t.min_savings_fraction) * c.current_monthly_usd / (option.gpus * HOURS_PER_MONTH)
    baseline = baseline_words(c)
    return (
        FlipPoint(
            "break-even price",
            f"above ${c.break_even.value:.2f}/GPU-hour ({c.tier}) {option.gpus} × {option.label} cost more per month "
            f"than {baseline}, ${c.current_monthly_usd:,.0f}/month",
            c.break_even.value,
            "USD/GPU-h",
            price,
            cite(c.break_even),
        ),
        FlipPoint(
            "savings threshold price",
            f"above ${hold_above:.2f}/GPU-hour the saving falls under {t.min_savings_fraction:.0%} and the verdict "
            "becomes hold",
            hold_above,
            "USD/GPU-h",
            price,
            ("computed: price = (1 - min_savings_fraction) * current_monthly / (N_candidate * 730)",),
        ),
    )


def _compared(facts: Facts, option: OptionFacts) -> tuple[OptionFacts, ...]:
    """Today's fleet, its re-tuned self where there is one, and the option."""
    retuned = facts.retuned
    return (facts.current, option) if retuned is None else (facts.current, retuned, option)


def choose(facts: Facts) -> tuple[OptionFacts, Comparison] | None:
    """The cheapest option a rule deciding on cost may recommend (:meth:`Facts.choices`)."""
    return cheapest(facts, facts.choices())


def throughput_reason(facts: Facts, option: OptionFacts) -> Reason:
    parts = []
    compared = _compared(facts, option)
    for o in compared:
        if o.service is not None:
            band = f" (±{max(abs(o.service.band[0]), abs(o.service.band[1])):.0%})"
            extra = ", extrapolated" if o.service.extrapolated else ""
            parts.append(
                f"{o.label} delivers {o.service.output_tok_s_per_gpu:,.0f} output tok/s per GPU at "
                f"{o.service.tok_s_per_user:.0f} tok/s per user{band}{extra}, binding: {o.service.binding}"
            )
        elif o.gpus_in_service:
            parts.append(
                f"{o.label}: no modelled operating point at the service level; its {o.gpus_in_service} GPUs "
                "in service are taken to carry the peak"
            )
    sources = [o.service.source for o in compared if o.service is not None]
    return Reason("; ".join(parts), cite(*sources))


def _set_by(o: OptionFacts) -> str:
    """Which check sets a fleet's count when it is not the output rate (s6: KV room sets 43 H100s
    where the throughput alone needs 42), so the count is not read as tok/s ÷ tok/s per GPU."""
    binding = o.fleet.binding if o.fleet is not None else None
    return f", a count set by {binding}," if binding and binding != "decode throughput" else ""


def fleet_reason(facts: Facts, option: OptionFacts) -> Reason:
    cur = facts.current
    traffic = facts.traffic
    retuned = facts.retuned
    also = f", {retuned.gpus} re-tuned to TP={retuned.tp}" if retuned is not None else ""
    today = (
        f"{cur.modelled_gpus} × {cur.accelerator} at TP={cur.tp} by the model ({cur.gpus} declared{also})"
        if cur.modelled_gpus is not None
        else f"the {cur.gpus} × {cur.accelerator} in service"
    )
    return Reason(
        f"the peak of {traffic.requests_per_s:g} requests/s × {traffic.osl:,.0f} output tokens = "
        f"{traffic.output_tok_s:,.0f} output tok/s needs {today}{_set_by(cur)} and "
        f"{option.gpus} × {option.accelerator} (TP={option.tp}){_set_by(option)} after the move",
        cite(*(o.fleet.decode for o in _compared(facts, option) if o.fleet is not None)),
    )


def speedup_reason(c: Comparison) -> Reason:
    terms = " × ".join(f"{t.name} {t.value:.2f}×" for t in c.floor_speedup.terms)
    ms = 1e3
    before = c.floor_speedup.baseline.value("decode_floor_s")
    after = c.floor_speedup.candidate.value("decode_floor_s")
    return Reason(
        f"the batch-1 decode floor, {baseline_words(c)} → {c.option_label}, "
        f"{change_words(before * ms, after * ms, 'ms')}: {terms}",
        (f"computed: {c.floor_speedup.formula}",),
    )


def _ratio_words(ratio: float, shown: str) -> str:
    """A like-for-like ratio with its direction ("3.71× cheaper"); the cell's own words where a
    price is $0."""
    return cheaper_or_dearer(ratio) if math.isfinite(ratio) and ratio > 0 else shown


def tier_reasons(c: Comparison) -> tuple[Reason, ...]:
    if c.tiers is None:
        return ()
    same = [cell for cell in c.tiers.same_tier()]
    if len(same) < 2:
        return ()
    text = ", ".join(
        f"{cell.baseline_tier} {_ratio_words(cell.ratio, cell.shown)} (${cell.baseline_usd_per_million:.3f} → "
        f"${cell.candidate_usd_per_million:.3f} per 1M)"
        for cell in same
    )
    return (
        Reason(
            # A unit cost (each GPU busy at the service level), not the bill: said so, with what it compares.
            f"unit cost per output token at full load, {baseline_words(c)} → {c.option_label}, like for like by "
            f"tier: {text}",
            ("computed: " + c.tiers.to_dict()["formula"],),
        ),
    )


def no_candidate(rule: Rule, summary: str, facts: Facts) -> Finding:
    notes = [n for o in facts.candidates for n in o.notes]
    reasons = (*(Reason(n) for n in notes), *left_out(facts))
    if facts.excluded and not facts.choices():
        summary = "no candidate is left once the other situations' exclusions are applied"
    return Finding(
        rule.id,
        rule.title,
        True,
        Verdict.DO_NOT_MIGRATE,
        summary,
        reasons or (Reason("no candidate meets the service level"),),
    )
