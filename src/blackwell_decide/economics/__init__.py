"""Economics: cost per token for each price tier and token basis, the ratio matrix between two
deployments, fleet sizing for a traffic pattern, power per token and payback of migration costs.

Pure functions over numbers and value objects; every result carries its formula and inputs.
"""

from blackwell_decide.economics.basis import Throughput, TokenBasis
from blackwell_decide.economics.bill import Bill, BillTerms, monthly_bill, prefill_time_share, replicas_for
from blackwell_decide.economics.cost import (
    CostLine,
    CostTable,
    RatioCell,
    RatioMatrix,
    cost_per_million,
    cost_table,
    ratio_matrix,
)
from blackwell_decide.economics.fleet import (
    Autoscaling,
    FleetComparison,
    FleetPlan,
    GpuCapacity,
    KvCheck,
    MonthlyCost,
    PrefillCheck,
    Traffic,
    monthly_cost,
    size_fleet,
)
from blackwell_decide.economics.payback import Payback, break_even_price, payback
from blackwell_decide.economics.power import (
    EnergyShareImpact,
    energy_cost_per_million,
    energy_share_of_tco,
    power_efficiency_ratio,
    provisioned_watts,
    tokens_per_provisioned_mw,
)

__all__ = [
    "Autoscaling",
    "Bill",
    "BillTerms",
    "CostLine",
    "CostTable",
    "EnergyShareImpact",
    "FleetComparison",
    "FleetPlan",
    "GpuCapacity",
    "KvCheck",
    "MonthlyCost",
    "Payback",
    "PrefillCheck",
    "RatioCell",
    "RatioMatrix",
    "Throughput",
    "TokenBasis",
    "Traffic",
    "break_even_price",
    "cost_per_million",
    "cost_table",
    "energy_cost_per_million",
    "energy_share_of_tco",
    "monthly_bill",
    "monthly_cost",
    "payback",
    "power_efficiency_ratio",
    "prefill_time_share",
    "provisioned_watts",
    "ratio_matrix",
    "replicas_for",
    "size_fleet",
    "tokens_per_provisioned_mw",
]
