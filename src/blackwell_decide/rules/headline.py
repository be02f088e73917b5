"""The headline of a decision: one paragraph a CFO reads correctly when it is forwarded.

It reads only the :class:`~blackwell_decide.rules.ledger.Ledger`: today's fleet and its bill
first; where the model says today's fleet cannot hold the service level, that comes first, with
what would settle it; then the recommended option's bill against the named baseline, its payback
against that same baseline, and how sure the saving is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from blackwell_decide.formatting import compared_with, months_words, pct, usd
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.rules.cost_reading import CostCase
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.ledger import Ledger
    from blackwell_decide.rules.timing import Timing

__all__ = ["headline_for"]


def _money(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 0:
        return f"saves {usd(value)}/month"
    return f"costs {usd(-value)}/month more"


def _gpu(facts: Facts) -> str:
    return facts.current.deployment.accelerator.name.replace("NVIDIA ", "")


def _opening(facts: Facts, ledger: Ledger, case: CostCase, timing: Timing) -> str:
    """The verdict in words, with the condition a migrate-if hangs on."""
    from blackwell_decide.rules.no_purchase import hardware_words, step_words

    label = ledger.option.label if ledger.option else "the candidate"
    v = ledger.verdict
    if v is Verdict.MIGRATE:
        start = f", starting {timing.start.isoformat()}" if timing.start else ""
        return f"Migrate to {label}{start}"
    if v is Verdict.MIGRATE_IF:
        if ledger.shortfall:
            return f"Migrate to {label} only if a benchmark confirms today's fleet falls short"
        if ledger.in_doubt:
            return f"Migrate to {label} if a benchmark confirms the saving"
        return f"Migrate to {label} if the one-time cost can be cut"
    step = facts.comparisons.get(facts.baseline.id) if facts.baseline is not facts.current else None
    first = ""
    if step is not None and step.monthly_savings_usd > 0:
        cur, base = facts.current, facts.baseline
        first = f" — {step_words(facts)} first ({cur.gpus} → {base.gpus} GPUs, {hardware_words(cur.gpus, base.gpus)})"
    if v is Verdict.HOLD:
        return f"Hold{first}"
    return f"Do not migrate{first}"


def headline_for(facts: Facts, ledger: Ledger, case: CostCase | None, timing: Timing) -> str:
    """The headline for ``ledger`` (a recommendation with an option, or none left)."""
    option, today, baseline = ledger.option, ledger.today, ledger.baseline
    if option is None or case is None or today is None or baseline is None:
        return _no_option(facts, ledger)
    if ledger.capability:
        return _capability(facts, ledger)
    parts = [p for p in (_today_short(facts, ledger),) if p]
    parts.append(f"{_opening(facts, ledger, case, timing)}: {_bill(facts, ledger)}.")
    return " ".join([*parts, *_payback_and_range(ledger)])


def _target(ledger: Ledger) -> str:
    return f"{ledger.target_tok_s_per_user:g} tok/s per user"


def _today_text(facts: Facts, ledger: Ledger) -> str:
    assert ledger.today is not None
    return f"today's {ledger.today.gpus} × {_gpu(facts)} ({usd(ledger.today.usd_per_month)}/month)"


def _no_option(facts: Facts, ledger: Ledger) -> str:
    """Why no option is recommended: none meets the service level, or the constraints left none."""
    if not any(o.service is not None for o in facts.candidates):
        today_too = "" if facts.current.service is not None else ", nor do today's GPUs"
        return (
            f"Do not migrate: no candidate meets {_target(ledger)} at any tensor-parallel size tried{today_too}; "
            "relax the service level or add a faster candidate"
        )
    return "Do not migrate: no candidate is left once the constraints are applied"


def _capability(facts: Facts, ledger: Ledger) -> str:
    """A move for the service level today's GPUs cannot meet, with what it costs over today's bill."""
    option, today = ledger.option, ledger.today
    assert option is not None and today is not None
    premium = -(ledger.saving_vs_today_usd or 0.0)
    money = (
        f"{usd(premium)}/month more than today's bill of {usd(today.usd_per_month)}: the price of the service level"
        if premium > 0
        else f"{usd(-premium)}/month less than today's bill of {usd(today.usd_per_month)}"
    )
    return (
        f"Migrate to {option.label} for capability: today's {_gpu(facts)} cannot meet {_target(ledger)} at any "
        f"tensor-parallel size tried, and {option.label} meets it for {usd(option.usd_per_month)}/month, {money}"
    )


def _today_short(facts: Facts, ledger: Ledger) -> str:
    """Today's fleet against the load, first, where the model finds it short ("" otherwise)."""
    today_text = _today_text(facts, ledger)
    if ledger.today_short_by is not None:
        return f"{today_text[0].upper()}{today_text[1:]} does not serve the load: {ledger.today_short_by}."
    if not ledger.today_short:
        return ""
    delivered = ledger.delivered_tok_s_per_user
    would = (
        f"it would deliver ~{delivered:.0f} tok/s per user"
        if delivered is not None
        else "its busiest operating point cannot carry the peak"
    )
    return (
        f"The model says {today_text} cannot hold {_target(ledger)} at peak ({would}); a benchmark and `check-bench` "
        "settle it."
    )


def _bill(facts: Facts, ledger: Ledger) -> str:
    """The option's bill against the named baseline, and against today's bill where that differs."""
    option, today, baseline = ledger.option, ledger.today, ledger.baseline
    assert option is not None and today is not None and baseline is not None
    against_today = baseline.id == today.id
    ratio = ledger.bill_ratio
    compared = (
        compared_with(ratio, ledger.baseline_words)  # "about the same cost as", never "the same cost than"
        if ratio is not None and math.isfinite(ratio) and ratio > 0
        else f"{'free, against' if ratio is not None and ratio > 0 else 'against'} {ledger.baseline_words}"
    )
    bill = (
        f"{option.label} serves the same traffic for {usd(option.usd_per_month)}/month "
        f"({compared}"
        + ("" if against_today and ratio and math.isfinite(ratio) else f" at {usd(baseline.usd_per_month)}/month")
        + f"): it {_money(ledger.saving_usd)}"
    )
    if against_today:
        return bill
    bill += f", and {_money(ledger.saving_vs_today_usd)} against today's bill of {usd(today.usd_per_month)}"
    if ledger.today_short_by is not None:
        bill += ", a fleet that does not serve the load"
    step = today.usd_per_month - baseline.usd_per_month
    if step > 0 and (ledger.saving_vs_today_usd or 0.0) > 0:
        # The no-purchase change earns part of that on its own: say which part is the migration's.
        from blackwell_decide.rules.no_purchase import step_words

        bill += f" (of that, {usd(step)}/month needs no migration: {step_words(facts)})"
    return bill


def _payback_and_range(ledger: Ledger) -> list[str]:
    """The payback against the baseline, and the saving's sampled range."""
    out: list[str] = []
    against_today = ledger.baseline is not None and ledger.today is not None and ledger.baseline.id == ledger.today.id
    if (ledger.saving_usd or 0.0) > 0 and ledger.one_time_usd:
        where = (
            " against today's bill"
            if against_today
            else ", counted against that fleet (a change not made yet), not against today's bill"
        )
        out.append(f"Payback {months_words(ledger.payback_months)}{where}.")
    if ledger.confidence is not None:
        c = ledger.confidence
        out.append(
            f"Saving p10–p90: {usd(c.p10)} to {usd(c.p90)}/month; it clears the {pct(c.threshold_fraction)} "
            f"threshold with probability {pct(c.probability)}" + (f"; {c.edge}." if c.edge else ".")
        )
    return out
