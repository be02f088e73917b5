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

    @property
    def pays_back(self) -> bool:
        return math.isfinite(self.months)

    @property
    def words(self) -> str:
        """``14.2 months``, or ``never`` where the saving never repays the one-time cost."""
        return f"{self.months:.1f} months" if self.pays_back else "never"

    def to_dict(self) -> dict[str, Any]:
        return {
            "one_time_usd": self.one_time_usd,
            "monthly_savings_usd": self.monthly_savings_usd,
            "payback_months": self.months if self.pays_back else None,
            "pays_back": self.pays_back,
            "payback_words": self.words,
            "formula": self.derivation.formula,
        }


def payback(one_time_usd: float, current_monthly_usd: float, candidate_monthly_usd: float) -> Payback:
    """Months until one-time costs (porting, validation, facility work, double-running) are repaid
    by the monthly saving; infinite ("never") when the candidate is not cheaper or the saving would
    take more than :data:`MAX_PAYBACK_MONTHS`."""
    for name, value in (
        ("one-time migration cost", one_time_usd),
        ("current monthly cost", current_monthly_usd),
        ("candidate monthly cost", candidate_monthly_usd),
    ):
        v.check_number(name, value, high=v.MAX_USD, unit="USD", fix="give the amount in USD")
    savings = current_monthly_usd - candidate_monthly_usd
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
        derivation=derived(
            "payback_months",
            "months for the monthly saving to repay the one-time migration cost",
            months,
            "months",
            "payback = one_time / (current_monthly - candidate_monthly)",
            (
                Input("one_time", "one-time migration cost", one_time_usd, "USD", USER_INPUT),
                Input("current_monthly", "current fleet per month", current_monthly_usd, "USD/month", DERIVED),
                Input("candidate_monthly", "candidate fleet per month", candidate_monthly_usd, "USD/month", DERIVED),
            ),
        ),
    )


def break_even_price(current_monthly_usd: float, candidate_gpus: int, hours: float = HOURS_PER_MONTH) -> Derived:
    """The candidate's USD per GPU-hour at which its fleet costs what the current one does."""
    if not 1 <= candidate_gpus <= v.MAX_GPUS:
        raise UsageError(f"the candidate fleet needs at least one GPU, got {candidate_gpus}")
    value = current_monthly_usd / (candidate_gpus * hours)
    return derived(
        "break_even_usd_per_gpu_hour",
        "candidate price per GPU-hour at which the two fleets cost the same",
        value,
        "USD/GPU-h",
        "break_even = current_monthly / (N_candidate * 730)",
        (
            Input("current_monthly", "current fleet per month", current_monthly_usd, "USD/month", DERIVED),
            Input("N_candidate", "candidate GPUs", float(candidate_gpus), "GPUs", DERIVED),
            Input("hours", "hours per month", hours, "h", DERIVED),
        ),
    )
