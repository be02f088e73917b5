"""When to act: the end of the current contract and the payback of the one-time costs give the
date savings can begin and the date they are paid back by."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.formatting import finite_or_none as _finite_or_none
from blackwell_decide.rules.no_purchase import hardware_words, step_words
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison


@attrs.frozen
class Timing:
    """When to act: ``start`` is the date savings can begin (None for a hold)."""

    start: dt.date | None
    text: str
    payback_months: float | None
    contract_end: dt.date | None
    paid_back_by: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "text": self.text,
            "payback_months": _finite_or_none(self.payback_months),
            "contract_end": self.contract_end.isoformat() if self.contract_end else None,
            "paid_back_by": self.paid_back_by.isoformat() if self.paid_back_by else None,
        }


def _add_months(date: dt.date, months: float) -> dt.date | None:
    """``months`` after ``date``; None past the calendar's end (year 9999): "never" in words."""
    try:
        return date + dt.timedelta(days=round(months * 365.0 / 12.0))
    except OverflowError:
        return None


def timing_for(facts: Facts, comparison: Comparison, verdict: Verdict) -> Timing:
    from blackwell_decide.scenario import Ownership

    current = facts.scenario.current
    end = current.contract_end
    owned = current.ownership is Ownership.OWNED
    commitment = "depreciation of the current fleet" if owned else "the current contract"
    months = comparison.payback.months
    payback = months if math.isfinite(months) else None
    if verdict in (Verdict.HOLD, Verdict.DO_NOT_MIGRATE):
        when = f"re-evaluate before {commitment} ends ({end.isoformat()})" if end else "re-evaluate when prices move"
        return Timing(None, first_step(facts) + when, payback, end, None)
    if not owned and end is not None and end > facts.as_of:
        start = end
        text = (
            f"at the end of {commitment} on {end.isoformat()} "
            f"({facts.months_to_contract_end:.1f} months from {facts.as_of.isoformat()}); until then the "
            "committed fleet is paid for either way"
        )
    else:
        start = facts.as_of
        text = (
            f"now ({facts.as_of.isoformat()}): owned hardware costs only its running cost, whatever its book value"
            if owned
            else f"now ({facts.as_of.isoformat()}): nothing commits the current fleet"
        )
    paid_back = _add_months(start, payback) if payback is not None else None
    if paid_back is not None:
        text += f"; the one-time costs are paid back by {paid_back.isoformat()}"
    return Timing(start, text, payback, end, paid_back)


def first_step(facts: Facts) -> str:
    """The first step of a hold: the no-purchase change the verdict was decided against, where
    it is not today's fleet (only once `check-bench` confirms a shortfall, when it costs more)."""
    baseline, cur = facts.baseline, facts.current
    if baseline is cur:
        return ""
    step = facts.comparisons.get(baseline.id)
    if step is not None and step.monthly_savings_usd > 0:
        hardware = hardware_words(cur.gpus, baseline.gpus)
        return f"{step_words(facts)} now ({cur.gpus} → {baseline.gpus} GPUs; {hardware}), then "
    check = facts.fleet_check
    if check is not None and check.beyond_band:
        # The shortfall is beyond the model's band: growing the fleet is what serving the load costs.
        hardware = hardware_words(cur.gpus, baseline.gpus)
        return f"{step_words(facts)} now to serve the load ({cur.gpus} → {baseline.gpus} GPUs; {hardware}), then "
    return f"if `check-bench` confirms the shortfall, {step_words(facts)} ({cur.gpus} → {baseline.gpus} GPUs), then "
