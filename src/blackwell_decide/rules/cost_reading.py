"""The cost reading every rule decides on (:func:`cost_case`): one option's verdict on money,
decided against the cheapest no-purchase option that holds the service level (today's declared
fleet, right-sized or re-tuned: a migration has to beat what today's GPUs get without buying
anything), with the reasons in words.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.formatting import cheaper_or_dearer, compared_with, months_words, pct, usd
from blackwell_decide.rules.confidence import SavingRange, saving_range
from blackwell_decide.rules.finding import Reason, cite
from blackwell_decide.rules.no_purchase import no_purchase_reasons, step_words
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison
    from blackwell_decide.scenario import Thresholds


def cost_verdict(comparison: Comparison, thresholds: Thresholds) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict the money gives for one option against the comparison's baseline: enough
    saving, paid back soon enough. The first reason is the saving itself."""
    verdict, rest = _money_verdict(comparison, thresholds)
    return verdict, (saving_reason(comparison), *rest)


def baseline_words(c: Comparison) -> str:
    """The baseline of ``c``, in words."""
    if c.against_retuned:
        return f"today's GPUs re-tuned to TP={c.baseline_tp} ({c.current_gpus} GPUs)"
    if c.against_rightsized:
        return f"today's fleet right-sized to {c.current_gpus} GPUs"
    return f"today's {c.current_gpus} GPUs"


def saving_reason(c: Comparison) -> Reason:
    """What the option costs per month and per token against the comparison's baseline."""
    if c.against_today:
        against = f"against ${c.current_monthly_usd:,.0f} today ({c.current_gpus} GPUs)"
        whose = "today's cost"
    else:
        against = f"against ${c.current_monthly_usd:,.0f} for {baseline_words(c)}"
        whose = "that fleet's cost"
    # Each side at its own tier: an owned fleet's marginal cost is not an on-demand price.
    side = "today's fleet" if c.against_today else "that fleet"
    prices = f"{c.tier} prices" if c.tier == c.current_tier else f"{c.tier} prices ({side}: {c.current_tier})"
    return Reason(
        f"{c.option_label} would cost ${c.option_monthly_usd:,.0f}/month ({c.option_gpus} GPUs) {against} at "
        f"{prices}: {_signed_money(c.monthly_savings_usd, c.savings_fraction, whose, c.current_monthly_usd)}; "
        "for the same traffic "
        f"{_per_token(c.cost_ratio)} (at full load, per output token: {_per_token(c.unit_cost_ratio)})",
        cite(c.option_monthly, c.current_monthly, c.cost_per_million_option),
    )


def _one_time_words(c: Comparison) -> str:
    """The one-time cost with the months of running both fleets it includes."""
    p = c.payback
    if p.overlap_months <= 0:
        return usd(p.one_time_usd)
    return (
        f"{usd(p.one_time_usd)} ({usd(p.migration_usd)} migration + {p.overlap_months:g} month(s) of both fleets, "
        f"{usd(p.overlap_usd)})"
    )


def _cut_words(c: Comparison, thresholds: Thresholds) -> str:
    """What the one-time cost must come down to for the payback limit, stated on the figure the
    migration table totals (the months of both fleets come on top of it, not out of it)."""
    p = c.payback
    cap = c.monthly_savings_usd * thresholds.max_payback_months
    if p.overlap_months <= 0:
        return f"migrate if it can be brought under {usd(cap)}"
    budget = cap - p.overlap_usd
    if budget <= 0:
        return (
            f"the {p.overlap_months:g} month(s) of both fleets ({usd(p.overlap_usd)}) alone exceed what "
            f"{thresholds.max_payback_months:g} months of saving repay ({usd(cap)})"
        )
    return (
        f"migrate if the migration cost ({usd(p.migration_usd)}) can be brought under {usd(budget)} "
        f"({usd(cap)} with the {usd(p.overlap_usd)} of both fleets)"
    )


def _money_verdict(c: Comparison, thresholds: Thresholds) -> tuple[Verdict, tuple[Reason, ...]]:
    threshold = f"{thresholds.min_savings_fraction:.0%}"
    if c.savings_fraction >= thresholds.min_savings_fraction:
        months = c.payback.months
        if months <= thresholds.max_payback_months:
            return Verdict.MIGRATE, (
                Reason(
                    f"the one-time cost of {_one_time_words(c)} pays back in {_months(months)}"
                    f"{_out_of(c)}, within the {thresholds.max_payback_months:g}-month limit",
                    cite(c.payback.derivation),
                ),
            )
        return Verdict.MIGRATE_IF, (
            Reason(
                f"but the one-time cost of {_one_time_words(c)} takes {_months(months)} to pay back"
                f"{_out_of(c)}, beyond the {thresholds.max_payback_months:g}-month limit: {_cut_words(c, thresholds)}",
                cite(c.payback.derivation),
            ),
        )
    if c.monthly_savings_usd <= 0 and c.cost_ratio > 1 and c.option_gpus_exact is not None:
        return Verdict.DO_NOT_MIGRATE, (
            Reason(
                f"per token it is cheaper, but the peak needs {c.option_gpus_exact:.2f} of its GPUs, rounded up to "
                f"{c.option_gpus}: at this scale whole-GPU granularity costs more than the cheaper tokens save",
                cite(c.option_monthly),
            ),
        )
    if c.monthly_savings_usd > 0:
        return Verdict.HOLD, (
            Reason(f"a saving of {c.savings_fraction:.0%} is below the {threshold} that justifies a migration's risk"),
        )
    return Verdict.DO_NOT_MIGRATE, ()


@attrs.frozen
class CostCase:
    """The cost reading of one option: the verdict, decided against ``comparison`` (the cheapest
    no-purchase option that holds the service level), with the comparison against today's
    declared fleet and every reason. ``shortfall`` is set when the verdict is a migrate-if
    because the option only beats today's bill if today's fleet really misses its service level."""

    verdict: Verdict
    comparison: Comparison
    today: Comparison
    retuned: Comparison | None
    reasons: tuple[Reason, ...]
    shortfall: bool = False
    capability: bool = False  # today's GPUs cannot meet the service level at any TP; this option can
    confidence: SavingRange | None = None
    in_doubt: bool = False  # the saving's p10–p90 range straddles the threshold: measure first

    def ratio_text(self) -> str:
        """Both cost ratios per output token (when the baseline's differs from today's), for a
        summary line."""
        base = self.comparison
        today = compared_with(self.today.cost_ratio, "today's fleet")
        if base.against_today or math.isclose(base.cost_ratio, self.today.cost_ratio, rel_tol=1e-9):
            return f"{today} for the same traffic"
        return f"{today} and {compared_with(base.cost_ratio, baseline_words(base))} for the same traffic"

    def condition_text(self) -> str:
        """What a migrate-if hangs on when today's fleet falls short by the model ("" otherwise)."""
        if not self.shortfall:
            return ""
        return (
            f"; only if today's {self.today.current_gpus} GPUs really miss the service level (check with "
            "`check-bench`): they cost less today"
        )


def cost_case(facts: Facts, option_id: str) -> CostCase:
    """The verdict for ``option_id`` on cost, decided against the cheapest no-purchase option
    that holds the service level (:attr:`Facts.baseline`): a migration has to beat what today's
    GPUs get without buying anything.

    When the option beats today's bill but not (by enough) a cheaper no-purchase change, the
    verdict is hold: make that change first. When today's fleet falls short of the service level
    by the model, the baseline is the cheapest fleet of today's GPUs that holds it; an option
    that beats that but not today's bill is a migrate-if: only if the shortfall is real. One-time
    migration costs are weighed against the saving over the baseline.
    """
    today = facts.comparisons[option_id]
    retuned = facts.retuned_comparisons.get(option_id)
    base = facts.against_baseline(option_id)
    verdict, rest = _money_verdict(base, facts.scenario.thresholds)
    reasons = [saving_reason(today)]
    if not base.against_today:
        reasons.append(saving_reason(base))
    reasons.extend(no_purchase_reasons(facts))
    verdict, rest = _step_first(facts, base, today, verdict, rest)
    threshold = facts.scenario.thresholds.min_savings_fraction
    # A shortfall beyond the model's band is not in doubt: today's bill buys a fleet that does not
    # serve the load, so the move is decided against the baseline alone, with no benchmark hedge.
    check = facts.fleet_check
    shortfall = (
        not base.against_today
        and not (check is not None and check.beyond_band)
        and not facts.holds_service_level(facts.current)
        and verdict in (Verdict.MIGRATE, Verdict.MIGRATE_IF)
        and today.savings_fraction < threshold
    )
    if shortfall:
        rest = (*rest, _shortfall_reason(today))
        verdict = Verdict.MIGRATE_IF
    capability = facts.capability_gap and facts.option(option_id).service is not None
    if capability:
        verdict = Verdict.MIGRATE
        rest = (capability_reason(facts, today),)
    confidence = saving_range(facts, base)
    in_doubt = False
    if confidence is not None and confidence.straddles and not capability and not shortfall:
        in_doubt = True
        rest = (*rest, doubt_reason(confidence, base))
        verdict = Verdict.MIGRATE_IF
    reasons.extend(rest)
    return CostCase(verdict, base, today, retuned, tuple(reasons), shortfall, capability, confidence, in_doubt)


def _step_first(
    facts: Facts, base: Comparison, today: Comparison, verdict: Verdict, rest: tuple[Reason, ...]
) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict and reasons once a cheaper no-purchase change is weighed: where the move beats
    today's bill but that change alone beats the move (or the move adds too little on top), the
    change comes first and the verdict is hold."""
    step = facts.comparisons.get(facts.baseline.id) if not base.against_today else None
    if not (step is not None and step.monthly_savings_usd > 0 and today.monthly_savings_usd > 0):
        return verdict, rest
    if verdict is Verdict.DO_NOT_MIGRATE:
        return Verdict.HOLD, (
            *rest,
            Reason(
                f"{step_words(facts)} alone beats the move: it costs "
                + (
                    f"${-base.monthly_savings_usd:,.0f}/month less than"
                    if base.monthly_savings_usd < 0
                    else "as much as"
                )
                + f" {base.option_label}; do that first",
                cite(base.current_monthly, base.option_monthly),
            ),
        )
    if verdict is Verdict.HOLD:
        return verdict, (
            *rest,
            Reason(
                f"{step_words(facts)} first: that alone saves ${step.monthly_savings_usd:,.0f}/month without "
                f"new hardware; the move would add ${base.monthly_savings_usd:,.0f}/month on top",
                cite(step.option_monthly, step.current_monthly),
            ),
        )
    return verdict, rest


def _shortfall_reason(today: Comparison) -> Reason:
    """Why a move that beats only a fleet sized to the service level is a migrate-if: against
    today's declared GPUs it saves too little (or costs more)."""
    against_today = (
        f"it costs {usd(-today.monthly_savings_usd)}/month more than"
        if today.monthly_savings_usd < 0
        else f"it saves only {usd(today.monthly_savings_usd)}/month ({pct(today.savings_fraction)}) against"
    )
    return Reason(
        f"but {against_today} today's {today.current_gpus} GPUs: migrate only if they really miss the "
        "service level at peak (measure it, then `check-bench`); if they hold it, keep them",
        cite(today.option_monthly, today.current_monthly),
    )


def capability_reason(facts: Facts, today: Comparison) -> Reason:
    """Why a migration is for capability: what today's GPUs tried, and the premium it costs."""
    cur = facts.current
    tried = facts.retune.tried if facts.retune is not None and facts.retune.tried else cur.tp_tried
    sizes = "; ".join(f"TP={tp}: {outcome}" for tp, outcome in tried) or f"TP={cur.tp}"
    premium = -today.monthly_savings_usd
    money = (
        f"it costs {usd(premium)}/month more than today's {usd(today.current_monthly_usd)}: the premium for the "
        "service level"
        if premium > 0
        else f"and it saves {usd(-premium)}/month against today's {usd(today.current_monthly_usd)}"
    )
    return Reason(
        f"today's {cur.accelerator} cannot meet {facts.tok_s_per_user:g} tok/s per user at any tensor-parallel "
        f"size tried ({sizes}); {today.option_label} meets it: a capability, not a saving; {money}",
        cite(today.option_monthly, today.current_monthly),
    )


def doubt_reason(confidence: SavingRange, base: Comparison) -> Reason:
    """The saving's range when it straddles the threshold."""
    return Reason(
        f"the saving over {baseline_words(base)} ranges {usd(confidence.p10)} to {usd(confidence.p90)}/month "
        f"(p10–p90 of the prediction bands), and clears the {pct(confidence.threshold_fraction)} threshold with "
        f"probability {pct(confidence.probability)}: migrate if a measurement at the operating point confirms it",
        ("computed: saving = baseline bill − option bill, sampled over the throughput bands and price quotes",),
    )


def _out_of(c: Comparison) -> str:
    return "" if c.against_today else f" out of the saving over {baseline_words(c)}"


def _signed_money(value: float, fraction: float, whose: str = "today's cost", base: float = 1.0) -> str:
    """A saving in words with its share of the baseline's cost (no share of a baseline that is free)."""
    if value >= 0:
        share = f" ({fraction:.0%} of {whose})" if base > 0 else ""
        return f"saves ${value:,.0f}/month{share}"
    share = f" ({-fraction:.0%} above {whose})" if base > 0 else f" ({whose} is $0)"
    return f"costs ${-value:,.0f}/month more{share}"


def _per_token(ratio: float) -> str:
    return cheaper_or_dearer(ratio)


def _months(months: float) -> str:
    return months_words(months)
