"""Tokens per provisioned megawatt, energy cost per token, and the energy share of TCO.

"Provisioned" power is what a site must supply per GPU: the GPU's board power, the rest of the
server (CPUs, NICs, fans) as a fraction of it, times the facility's PUE (cooling and electrical
distribution). Tokens per provisioned MW is the metric that matters when power, not money, is
the binding constraint.
"""

from __future__ import annotations

from typing import Any

import attrs

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.economics.basis import Throughput, derived
from blackwell_decide.errors import UsageError
from blackwell_decide.model import DERIVED, USER_INPUT, Source
from blackwell_decide.model import validators as v
from blackwell_decide.units import MW, PER_MILLION, SECONDS_PER_HOUR


def provisioned_watts(gpu_watts: float, *, server_overhead: float = 0.0, pue: float = 1.0) -> float:
    v.check_number("GPU power", gpu_watts, low=v.MIN_WATTS, high=v.MAX_WATTS, unit="W")
    v.check_number("server overhead fraction", server_overhead, high=10.0, fix="give it as a fraction of GPU power")
    v.check_number("PUE", pue, low=1.0, high=10.0, fix="a facility's PUE is 1.0 or more (1.1-1.6 is typical)")
    return gpu_watts * (1.0 + server_overhead) * pue


def tokens_per_provisioned_mw(
    throughput: Throughput,
    gpu_watts: float,
    *,
    server_overhead: float = 0.0,
    pue: float = 1.0,
    watts_source: Source | None = None,
) -> Derived:
    """Tokens/s one provisioned megawatt sustains, on the throughput's own token basis."""
    watts = provisioned_watts(gpu_watts, server_overhead=server_overhead, pue=pue)
    value = throughput.tok_s_per_gpu / (watts / MW)
    return derived(
        "tokens_per_provisioned_mw",
        f"{throughput.basis.value} tokens/s per provisioned MW",
        value,
        "tok/s/MW",
        "tok_s_per_MW = X / (P_gpu * (1 + overhead) * PUE / 1e6)",
        (
            throughput.as_input(),
            Input("P_gpu", "GPU board power", gpu_watts, "W", watts_source or USER_INPUT),
            Input(
                "overhead", "rest of the server, as a fraction of GPU power", server_overhead, "fraction", USER_INPUT
            ),
            Input("PUE", "facility power usage effectiveness", pue, "×", USER_INPUT),
        ),
        r"\frac{X}{P_{\mathrm{GPU}}(1+o)\,\mathrm{PUE}/10^6}",
    )


def power_efficiency_ratio(candidate: Derived, baseline: Derived) -> Derived:
    """Candidate tokens per MW over baseline tokens per MW (same site assumptions cancel)."""
    value = candidate.value / baseline.value
    return derived(
        "tokens_per_mw_ratio",
        "candidate tokens per provisioned MW ÷ baseline",
        value,
        "×",
        "ratio = (X_c / P_c) / (X_b / P_b) = (X_c / X_b) * (P_b / P_c)",
        (
            Input(
                "tok_s_per_MW_candidate", candidate.description, candidate.value, "tok/s/MW", DERIVED, candidate.name
            ),
            Input("tok_s_per_MW_baseline", baseline.description, baseline.value, "tok/s/MW", DERIVED, baseline.name),
        ),
    )


def energy_cost_per_million(
    throughput: Throughput,
    gpu_watts: float,
    usd_per_kwh: float,
    *,
    server_overhead: float = 0.0,
    pue: float = 1.0,
) -> Derived:
    """Electricity alone, USD per million tokens (the marginal cost of owned hardware)."""
    v.check_number(
        "electricity price", usd_per_kwh, high=100.0, unit="USD/kWh", fix="give the price per kWh, not per MWh"
    )
    watts = provisioned_watts(gpu_watts, server_overhead=server_overhead, pue=pue)
    value = watts / 1000.0 * usd_per_kwh / (throughput.tok_s_per_gpu * SECONDS_PER_HOUR) * PER_MILLION
    return derived(
        "energy_cost_per_million",
        f"electricity per million {throughput.basis.value} tokens",
        value,
        "USD/1M tokens",
        "energy_cost_per_1M = (P_provisioned / 1000 * usd_per_kwh) / (X * 3600) * 1e6",
        (
            throughput.as_input(),
            Input("P_provisioned", "provisioned watts per GPU", watts, "W", DERIVED),
            Input("usd_per_kwh", "electricity price", usd_per_kwh, "USD/kWh", USER_INPUT),
        ),
    )


@attrs.frozen
class EnergyShareImpact:
    """How much a power-efficiency gap moves total cost per token.

    ``linear`` is the quick estimate gap × energy share; ``exact`` accounts for a deficit in
    tokens per MW raising energy per token by 1 / (1 − gap) − 1 (20 % fewer tokens per MW is
    25 % more energy per token).
    """

    efficiency_gap: float
    energy_share: float
    linear: Derived
    exact: Derived

    def to_dict(self) -> dict[str, Any]:
        return {
            "efficiency_gap": self.efficiency_gap,
            "energy_share_of_tco": self.energy_share,
            "tco_increase_linear": self.linear.value,
            "tco_increase_exact": self.exact.value,
            "formulas": [self.linear.formula, self.exact.formula],
        }


def energy_share_of_tco(
    efficiency_gap: float, energy_share: float, *, share_source: Source | None = None
) -> EnergyShareImpact:
    """TCO-per-token increase from delivering ``efficiency_gap`` fewer tokens per provisioned MW
    when energy and power-proportional costs are ``energy_share`` of TCO."""
    if not 0 <= efficiency_gap < 1:
        raise UsageError(f"efficiency gap must be a fraction in [0, 1), got {efficiency_gap!r}")
    if not 0 <= energy_share <= 1:
        raise UsageError(f"energy share of TCO must be a fraction in [0, 1], got {energy_share!r}")
    inputs = (
        Input("gap", "fewer tokens per provisioned MW, as a fraction", efficiency_gap, "fraction", USER_INPUT),
        Input("share", "energy and colocation share of TCO", energy_share, "fraction", share_source or USER_INPUT),
    )
    linear = derived(
        "tco_increase_linear",
        "TCO-per-token increase, first-order estimate",
        efficiency_gap * energy_share,
        "fraction",
        "increase ≈ gap * share",
        inputs,
    )
    exact = derived(
        "tco_increase_exact",
        "TCO-per-token increase: energy per token rises by 1/(1 − gap)",
        energy_share * (1.0 / (1.0 - efficiency_gap) - 1.0),
        "fraction",
        "increase = share * (1 / (1 - gap) - 1)",
        inputs,
    )
    return EnergyShareImpact(efficiency_gap, energy_share, linear, exact)
