"""The ledger: every figure a decision states, computed once.

``decide``, ``decide --json`` and the memo's summary and migration sections all read the same
:class:`Ledger`; none of them computes a figure of its own. Each money figure names its
baseline: the first comparison is always today's declared fleet and its bill; where the
verdict is decided against another fleet (the cheapest no-purchase option that holds the
service level), that fleet is named in words, and the recommended option's payback and
break-even price are stated against it alone.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.formatting import finite_or_none as _finite
from blackwell_decide.formatting import months_words
from blackwell_decide.rules.measure import Measurement, measurement_for
from blackwell_decide.rules.no_purchase import hardware_words, short_by_words
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.rules.confidence import SavingRange
    from blackwell_decide.rules.cost_reading import CostCase
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import Comparison, OptionFacts
    from blackwell_decide.rules.timing import Timing

__all__ = ["STALE_PRICE_DAYS", "Ledger", "build_ledger"]

#: A price snapshot older than this on the decision date is warned about.
STALE_PRICE_DAYS = 90


@attrs.frozen
class Side:
    """One fleet's month in the ledger: who it is, its GPUs and bill, and what a token costs."""

    id: str
    label: str
    gpus: int
    gpus_billed: float
    usd_per_month: float
    usd_per_gpu_hour: float
    tier: str
    realized_usd_per_million_output: float | None
    realized_usd_per_million_total: float | None
    full_load_usd_per_million_output: float | None
    holds_service_level: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.id,
            "label": self.label,
            "gpus": self.gpus,
            "gpus_billed_mean": self.gpus_billed,
            "usd_per_month": self.usd_per_month,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "tier": self.tier,
            "realized_usd_per_million_output": _finite(self.realized_usd_per_million_output),
            "realized_usd_per_million_total": _finite(self.realized_usd_per_million_total),
            "full_load_usd_per_million_output": _finite(self.full_load_usd_per_million_output),
            "holds_service_level": self.holds_service_level,
        }


def _side(facts: Facts, option: OptionFacts) -> Side | None:
    bill, price = option.bill, option.price
    if bill is None or price is None:
        return None
    return Side(
        id=option.id,
        label=option.label,
        gpus=option.gpus,
        gpus_billed=bill.gpus_billed,
        usd_per_month=bill.monthly_usd,
        usd_per_gpu_hour=price.usd_per_gpu_hour,
        tier=price.tier,
        realized_usd_per_million_output=bill.usd_per_million_output,
        realized_usd_per_million_total=bill.usd_per_million_total,
        full_load_usd_per_million_output=bill.full_load_usd_per_million_output,
        holds_service_level=facts.holds_service_level(option),
    )


@attrs.frozen
class Ledger:
    """The figures of one recommendation. ``baseline`` is the fleet the verdict is decided
    against; ``today`` is always the declared fleet. Savings, payback and break-even are against
    ``baseline``; ``saving_vs_today_usd`` is the same option against today's bill."""

    verdict: Verdict
    headline: str
    today: Side | None
    baseline: Side | None
    baseline_words: str
    option: Side | None
    saving_usd: float | None  # per month, against the baseline
    saving_vs_today_usd: float | None  # per month, against today's bill
    bill_ratio: float | None  # baseline bill ÷ option bill (the same traffic served)
    payback_months: float | None  # against the baseline; None: never
    paid_back_by: dt.date | None
    break_even_usd_per_gpu_hour: float | None  # against the baseline
    one_time_usd: float | None  # migration costs plus the overlap of both fleets
    overlap_months: float
    confidence: SavingRange | None
    capability: bool
    shortfall: bool
    in_doubt: bool
    today_short: bool  # the model says the declared fleet cannot hold the service level
    #: How far short, in a sentence, when even the top of the model's band cannot close the gap
    #: (None otherwise: a shortfall within the band is one a benchmark settles)
    today_short_by: str | None
    delivered_tok_s_per_user: float | None
    target_tok_s_per_user: float
    measurements: tuple[Measurement, ...]
    price_age_days: int | None
    price_warning: str | None
    terms: str
    #: GPUs the model sizes for today's traffic at today's TP (the fleet check), beside the declared
    today_modelled_gpus: int | None = None
    fleet_mismatch_tolerance: float = 0.0

    @property
    def verify(self) -> str:
        """The one thing to verify before acting, in a sentence."""
        # What the verdict hangs on comes first: a shortfall of today's fleet, else the saving's doubt.
        if self.shortfall and self.today is not None:
            return (
                f"whether today's {self.today.gpus} GPUs really miss {self.target_tok_s_per_user:g} tok/s per user "
                "at peak: benchmark them at the operating point and run `check-bench`"
            )
        if self.in_doubt and self.option is not None:
            return f"the throughput of {self.option.label} at the operating point: benchmark it and run `check-bench`"
        if self.capability and self.option is not None:
            return f"that {self.option.label} meets {self.target_tok_s_per_user:g} tok/s per user: benchmark it"
        if self.option is not None:
            return f"the predicted throughput of {self.option.label}: benchmark it and run `check-bench`"
        return "the prices: they move the verdict most"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "headline": self.headline,
            "today": self.today.to_dict() if self.today else None,
            "baseline": {**self.baseline.to_dict(), "words": self.baseline_words} if self.baseline else None,
            "option": self.option.to_dict() if self.option else None,
            "saving_usd_per_month": _finite(self.saving_usd),
            "saving_vs_today_usd_per_month": _finite(self.saving_vs_today_usd),
            "bill_ratio": _finite(self.bill_ratio),
            "payback_months": _finite(self.payback_months),
            "payback_against": self.baseline_words,
            "paid_back_by": self.paid_back_by.isoformat() if self.paid_back_by else None,
            "break_even_usd_per_gpu_hour": _finite(self.break_even_usd_per_gpu_hour),
            "break_even_against": self.baseline_words,
            "one_time_usd": _finite(self.one_time_usd),
            "overlap_months": self.overlap_months,
            "confidence": self.confidence.to_dict() if self.confidence else None,
            "capability": self.capability,
            "shortfall": self.shortfall,
            "in_doubt": self.in_doubt,
            "today_short_by_the_model": self.today_short,
            "today_short_beyond_band": self.today_short_by,
            "today_modelled_gpus": self.today_modelled_gpus,
            "delivered_tok_s_per_user": _finite(self.delivered_tok_s_per_user),
            "target_tok_s_per_user": self.target_tok_s_per_user,
            "verify": self.verify,
            "measurements": [m.to_dict() for m in self.measurements],
            "price_age_days": self.price_age_days,
            "price_warning": self.price_warning,
            "terms": self.terms,
        }


def _price_age(facts: Facts) -> tuple[int | None, str | None]:
    """Days between the newest price snapshot used and the decision date, with a warning when
    it is stale or dated after the decision."""
    dated = [s for s in facts.price_snapshots if s.as_of is not None]
    if not dated:
        return None, None
    newest = max(dated, key=lambda s: s.as_of)
    age = (facts.as_of - newest.as_of).days
    if age < 0:
        return age, (
            f"the {newest.provider} prices are dated {newest.as_of.isoformat()}, after the decision date "
            f"{facts.as_of.isoformat()}"
        )
    if age > STALE_PRICE_DAYS:
        return age, (
            f"the {newest.provider} prices are {age} days old on {facts.as_of.isoformat()} (dated "
            f"{newest.as_of.isoformat()}): GPU rental prices move by tens of percent in that time; re-check them "
            "or give your own with prices.file"
        )
    return age, None


def _measurements(facts: Facts, case: CostCase | None, option: OptionFacts | None) -> tuple[Measurement, ...]:
    """What to benchmark: today's fleet where the model finds it short, the recommended option
    (its throughput carries the saving), and the baseline where the model sizes it."""
    wanted: list[OptionFacts] = []
    check = facts.fleet_check
    short = check is not None and check.short
    if short and case is not None and case.shortfall:
        wanted.append(facts.current)  # the verdict hangs on it: measured first
    if option is not None:
        wanted.append(option)
    if short:
        wanted.append(facts.current)
    if case is not None and not case.comparison.against_today:
        wanted.append(facts.option(case.comparison.baseline))
    out = []
    seen: set[str] = set()
    for o in wanted:
        if o.id in seen:
            continue
        seen.add(o.id)
        m = measurement_for(facts, o)
        if m is not None:
            out.append(m)
    return tuple(out)


def build_ledger(
    facts: Facts,
    verdict: Verdict,
    option: OptionFacts | None,
    case: CostCase | None,
    timing: Timing,
    headline_override: str | None = None,
) -> Ledger:
    """The ledger of one recommendation (``case`` None when no candidate is left)."""
    from blackwell_decide.rules.headline import headline_for

    base_cmp: Comparison | None = case.comparison if case is not None else None
    today_cmp: Comparison | None = case.today if case is not None else None
    baseline_option = facts.option(base_cmp.baseline) if base_cmp is not None else facts.baseline
    check = facts.fleet_check
    age, warning = _price_age(facts)
    payback = base_cmp.payback.months if base_cmp is not None else None
    w = facts.scenario.workload
    ledger = Ledger(
        verdict=verdict,
        headline="",
        today=_side(facts, facts.current),
        baseline=_side(facts, baseline_option),
        baseline_words=_baseline_words(facts, baseline_option),
        option=_side(facts, option) if option is not None else None,
        saving_usd=base_cmp.monthly_savings_usd if base_cmp is not None else None,
        saving_vs_today_usd=today_cmp.monthly_savings_usd if today_cmp is not None else None,
        bill_ratio=base_cmp.cost_ratio if base_cmp is not None else None,
        payback_months=payback if payback is not None and months_words(payback) != "never" else None,
        paid_back_by=timing.paid_back_by,
        break_even_usd_per_gpu_hour=base_cmp.break_even.value if base_cmp is not None else None,
        one_time_usd=base_cmp.payback.one_time_usd if base_cmp is not None else None,
        overlap_months=facts.scenario.migration.overlap_months,
        confidence=case.confidence if case is not None else None,
        capability=case.capability if case is not None else False,
        shortfall=case.shortfall if case is not None else False,
        in_doubt=case.in_doubt if case is not None else False,
        today_short=bool(check is not None and check.short),
        today_short_by=short_by_words(facts) if check is not None and check.beyond_band else None,
        today_modelled_gpus=check.modelled if check is not None else None,
        fleet_mismatch_tolerance=facts.scenario.thresholds.fleet_mismatch_fraction,
        delivered_tok_s_per_user=check.delivered_tok_s_per_user if check is not None else None,
        target_tok_s_per_user=facts.tok_s_per_user,
        measurements=_measurements(facts, case, option),
        price_age_days=age,
        price_warning=warning,
        terms=(
            "rented fleets autoscale with the traffic (the lower bound: replicas for the average demand)"
            if w.autoscale
            else "always on, sized for the peak"
        ),
    )
    text = headline_override or headline_for(facts, ledger, case, timing)
    return attrs.evolve(ledger, headline=text)


def _baseline_words(facts: Facts, baseline: OptionFacts) -> str:
    cur = facts.current
    name = cur.deployment.accelerator.name.replace("NVIDIA ", "")
    if baseline is cur:
        return f"today's {cur.gpus} × {name} (TP={cur.tp}, as declared)"
    if baseline.role == "retuned":
        hardware = hardware_words(cur.gpus, baseline.gpus)
        return f"today's GPUs re-tuned to TP={baseline.tp} ({baseline.gpus} × {name}, {hardware})"
    if baseline.role == "rightsized":
        verb = "right-sized" if baseline.gpus < cur.gpus else "grown"
        hardware = hardware_words(cur.gpus, baseline.gpus)
        return f"today's fleet {verb} to {baseline.gpus} × {name} (TP={baseline.tp}, {hardware})"
    return baseline.label
