"""Payback of one-time migration costs, and the candidate price at which a migration breaks even."""

from __future__ import annotations

import math
from typing import Any

import attrs

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import derived
from blackwell_decide.errors import UsageError
from blackwell_decide.model import DERIVED, USER_INPUT
from blackwell_decide.model import validators as v
from blackwell_decide.units import HOURS_PER_MONTH

#: The longest payback that counts as paying back: 1,000 years. Past it no fleet lasts (and a
#: date past the year 9999 cannot be written), so it is "never" in words, as a saving of zero is.
MAX_PAYBACK_MONTHS = 12_000.0


@attrs.frozen
class Payback:
    one_time_usd: float
    monthly_savings_usd: float
    months: float  # inf when the candidate saves nothing, or repays only after MAX_PAYBACK_MONTHS
    derivation: Derived
    overlap_months: float = 0.0  # months of running both fleets, counted in one_time_usd

    @property
    def overlap_usd(self) -> float:
        """The part of ``one_time_usd`` that is the new fleet's bill while both run."""
        return self.one_time_usd - self.migration_usd

    @property
    def migration_usd(self) -> float:
        return self.derivation.inputs[0].value

    @property
    def pays_back(self) -> bool:
        return math.isfinite(self.months)

    @property
    def words(self) -> str:
        """``14.2 months``, or ``never`` where the saving never repays the one-time cost."""
        from blackwell_decide.formatting import months_words

        return months_words(self.months)

    def to_dict(self) -> dict[str, Any]:
        return {
            "one_time_usd": self.one_time_usd,
            "monthly_savings_usd": self.monthly_savings_usd,
            "payback_months": self.months if self.pays_back else None,
            "pays_back": self.pays_back,
            "migration_usd": self.migration_usd,
            "overlap_months": self.overlap_months,
            "overlap_usd": self.overlap_usd,
            "payback_words": self.words,
            "formula": self.derivation.formula,
        }


def payback(
    one_time_usd: float, current_monthly_usd: float, candidate_monthly_usd: float, overlap_months: float = 0.0
) -> Payback:
    """Months until one-time costs (porting, validation, facility work) and ``overlap_months`` of
    running both fleets (the new fleet's bill while the old one still serves) are repaid by the
    monthly saving; infinite when the candidate is not cheaper. ``one_time_usd`` of the result
    includes the overlap."""
    if not (overlap_months >= 0 and math.isfinite(overlap_months)):
        raise UsageError(f"months of running both fleets must be zero or more, got {overlap_months!r}")
    for name, value in (
        ("one-time migration cost", one_time_usd),
        ("current monthly cost", current_monthly_usd),
        ("candidate monthly cost", candidate_monthly_usd),
    ):
        v.check_number(name, value, high=v.MAX_USD, unit="USD", fix="give the amount in USD")
    savings = current_monthly_usd - candidate_monthly_usd
    migration_usd = one_time_usd
    one_time_usd = migration_usd + overlap_months * candidate_monthly_usd
    if savings > 0:
        months = one_time_usd / savings
        if months > MAX_PAYBACK_MONTHS:
            months = math.inf
    else:
        months = 0.0 if one_time_usd == 0 and savings == 0 else math.inf
    return Payback(
        one_time_usd=one_time_usd,
        monthly_savings_usd=savings,
        months=months,
        overlap_months=overlap_months,
        derivation=derived(
            "payback_months",
            "months for the monthly saving to repay the one-time migration cost",
            months,
            "months",
            "payback = (one_time + overlap_months * candidate_monthly) / (baseline_monthly - candidate_monthly)",
            (
                Input("one_time", "one-time migration cost", migration_usd, "USD", USER_INPUT),
                Input("overlap_months", "months of running both fleets", overlap_months, "months", USER_INPUT),
                _baseline_monthly(current_monthly_usd),
                Input("candidate_monthly", "candidate fleet per month", candidate_monthly_usd, "USD/month", DERIVED),
            ),
        ),
    )


def _baseline_monthly(usd_per_month: float) -> Input:
    """The monthly bill a payback or break-even divides by: the fleet the option is compared with
    (today's, or the no-migration baseline), not necessarily today's."""
    return Input(
        "baseline_monthly", "the fleet compared with (the baseline) per month", usd_per_month, "USD/month", DERIVED
    )


def break_even_price(current_monthly_usd: float, candidate_gpus: int, hours: float = HOURS_PER_MONTH) -> Derived:
    """The candidate's USD per GPU-hour at which its fleet costs what the fleet it is compared with
    (today's, or the no-migration baseline) does."""
    if not 1 <= candidate_gpus <= v.MAX_GPUS:
        raise UsageError(f"the candidate fleet needs at least one GPU, got {candidate_gpus}")
    value = current_monthly_usd / (candidate_gpus * hours)
    return derived(
        "break_even_usd_per_gpu_hour",
        "candidate price per GPU-hour at which the two fleets cost the same",
        value,
        "USD/GPU-h",
        "break_even = baseline_monthly / (N_candidate * 730)",
        (
            _baseline_monthly(current_monthly_usd),
            Input("N_candidate", "candidate GPUs", float(candidate_gpus), "GPUs", DERIVED),
            Input("hours", "hours per month", hours, "h", DERIVED),
        ),
    )
