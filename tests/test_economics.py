"""Economics reproduces Part 3 of the source article from its own inputs.

Expected figures cite "the article" = The Blackwell Migration Question (Inference.Engineering,
Issue #2, May 2026). Its inputs: throughput at 50 tok/s/user of ~1,500 (H100 FP8), ~2,500 (H200
FP8) and ~10,000 (B200 NVFP4) TPS per GPU (Part 3.1 table), and Spheron prices as of 22 May 2026
(Part 3.1: H100 $2.64/$1.66, H200 $4.62/$1.92, B200 $6.03/$2.12 on-demand/spot). The prices are
written out here (not read from the catalog) so these tests check the arithmetic alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np
import pytest

from blackwell_decide.bounds import Derived
from blackwell_decide.economics import (
    CostTable,
    FleetPlan,
    GpuCapacity,
    Throughput,
    TokenBasis,
    Traffic,
    break_even_price,
    cost_per_million,
    cost_table,
    energy_cost_per_million,
    energy_share_of_tco,
    payback,
    power_efficiency_ratio,
    ratio_matrix,
    size_fleet,
    tokens_per_provisioned_mw,
)
from blackwell_decide.economics.basis import derived
from blackwell_decide.errors import UsageError
from blackwell_decide.model import ARTICLE_SOURCE, DERIVED, PriceQuote
from blackwell_decide.units import GB, HOURS_PER_MONTH

SPHERON = dt.date(2026, 5, 22)
# (on-demand, spot) USD per GPU-hour, the article Part 3.1
PRICES = {"h100-sxm": (2.64, 1.66), "h200-sxm": (4.62, 1.92), "b200": (6.03, 2.12)}
# TPS per GPU at 50 tok/s/user, the article Part 3.1 table
TPS = {"h100-sxm": 1500.0, "h200-sxm": 2500.0, "b200": 10000.0}


def quotes(gpu: str) -> list[PriceQuote]:
    on_demand, spot = PRICES[gpu]
    return [
        PriceQuote("Spheron", gpu, "on-demand", on_demand, SPHERON, ARTICLE_SOURCE),
        PriceQuote("Spheron", gpu, "spot", spot, SPHERON, ARTICLE_SOURCE),
    ]


def table(gpu: str) -> CostTable:
    return cost_table(gpu, Throughput(TPS[gpu], "output"), quotes(gpu))


# ---------------------------------------------------------------- 3.1 cost per million tokens
@pytest.mark.parametrize(
    ("gpu", "on_demand", "spot", "spot_decimals"),
    [
        ("h100-sxm", 0.49, 0.31, 2),  # the article Part 3.1: $0.49 / $0.31
        ("h200-sxm", 0.51, 0.21, 2),  # the article Part 3.1: $0.51 / $0.21
        ("b200", 0.17, 0.059, 3),  # the article Part 3.1: $0.17 / $0.059
    ],
)
def test_part_3_1_cost_per_million(gpu: str, on_demand: float, spot: float, spot_decimals: int) -> None:
    t = cost_table(gpu, Throughput(TPS[gpu], "output"), quotes(gpu))
    assert round(t.line("on-demand").usd_per_million, 2) == on_demand
    assert round(t.line("spot").usd_per_million, spot_decimals) == spot


def test_cost_formula_values_exactly() -> None:
    # $2.64 / (1,500 × 3,600) × 1e6 = $0.48889 (the formula of the article Part 3.1)
    assert cost_per_million(2.64, 1500) == pytest.approx(2.64 / 5.4e6 * 1e6, rel=1e-12)
    assert float(cost_per_million(2.64, 1500)) == pytest.approx(0.488889, abs=1e-6)


def test_cost_per_million_is_vectorised() -> None:
    grid = cost_per_million(np.array([[2.64], [6.03]]), np.array([[1500.0, 10000.0]]))
    assert grid.shape == (2, 2)
    assert grid[1, 1] == pytest.approx(0.1675, abs=1e-9)  # $6.03 at 10,000 TPS
    assert grid[0, 0] == pytest.approx(0.488889, abs=1e-6)


def test_h200_on_demand_is_worse_than_h100() -> None:
    """The article Part 3.1: 'at $4.62/hr its cost-per-token ($0.51/M) is actually slightly worse than
    the H100's ($0.49/M)'."""
    h100 = cost_table("h100-sxm", Throughput(1500, "output"), quotes("h100-sxm"))
    h200 = cost_table("h200-sxm", Throughput(2500, "output"), quotes("h200-sxm"))
    assert h200.line("on-demand").usd_per_million > h100.line("on-demand").usd_per_million


def test_ratio_matrix_on_demand_and_mixed_tiers() -> None:
    """The article Part 3.1: ~2.9x on-demand; its ~8x 'on spot' is H100 on-demand against B200 spot
    (0.4889 / 0.0589 = 8.30); spot against spot is 0.3074 / 0.0589 = 5.22."""
    h100 = cost_table("h100-sxm", Throughput(1500, "output"), quotes("h100-sxm"))
    b200 = cost_table("b200", Throughput(10000, "output"), quotes("b200"))
    m = ratio_matrix(h100, b200)
    assert round(m.cell("on-demand", "on-demand").ratio, 1) == 2.9
    assert m.cell("spot", "spot").ratio == pytest.approx(5.22, abs=0.005)
    mixed = m.cell("on-demand", "spot")
    assert mixed.mixed and "mixed tiers" in mixed.label
    assert mixed.ratio == pytest.approx(8.30, abs=0.005)
    assert not m.cell("spot", "spot").mixed
    assert len(m.cells) == 4 and len(m.same_tier()) == 2


def test_token_basis_conversion() -> None:
    """10,000 total tok/s at 1024/1024 is 5,000 output tok/s and 5,000 input tok/s; cost per output
    token doubles (input + output counted by InferenceMAX's tput_per_gpu)."""
    total = Throughput(10000, TokenBasis.TOTAL, isl=1024, osl=1024)
    assert total.on_basis("output").tok_s_per_gpu == pytest.approx(5000)
    assert total.on_basis("input").tok_s_per_gpu == pytest.approx(5000)
    t = cost_table("b200", total, quotes("b200"), ("output", "total"))
    per_output = t.line("on-demand", "output").usd_per_million
    assert per_output == pytest.approx(2 * t.line("on-demand", "total").usd_per_million)
    # 800 in / 400 out: output is a third of the total
    assert Throughput(1200, "total", isl=800, osl=400).on_basis("output").tok_s_per_gpu == pytest.approx(400)


def test_cost_line_carries_formula_and_sources() -> None:
    line = cost_table("b200", Throughput(10000, "output"), quotes("b200")).line("spot")
    d = line.derivation
    assert d.formula.startswith("cost_per_1M = price_per_gpu_hour / (X * 3600)")
    assert d.inputs[0].source is ARTICLE_SOURCE
    assert d.inputs[0].value == 2.12
    assert line.to_dict()["price_as_of"] == "2026-05-22"


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: cost_per_million(-1.0, 1000), "prices must be zero or positive"),
        (lambda: cost_per_million(2.0, 0), "throughputs must be positive"),
        (lambda: Throughput(-5, "output"), "must be a positive number"),
        (lambda: Throughput(5, "prompt"), "unknown token basis 'prompt'"),
        (lambda: Throughput(5, "total").on_basis("output"), "--isl and --osl"),
        (lambda: table("b200").line("reserved"), "tiers priced: on-demand, spot"),
        (lambda: cost_table("b200", Throughput(1, "output"), []), "no prices for b200"),
    ],
)
def test_bad_inputs_raise_usage_errors(call: Callable[[], object], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        call()


# ---------------------------------------------------------------- 3.3 the worked example
WORKED = Traffic(requests_per_s=50, isl=800, osl=400, peak_to_average=2)  # the article Part 3.3


def plan(gpu: str) -> FleetPlan:
    return size_fleet(WORKED, GpuCapacity(gpu, gpu, Throughput(TPS[gpu], "output")), quotes(gpu))


def test_worked_example_demand() -> None:
    # the article Part 3.3: 50 × 400 = 20,000 output tok/s; prefill 40,000 input tok/s
    assert WORKED.output_tok_s == 20000
    assert WORKED.input_tok_s == 40000


def test_worked_example_h100_fleet() -> None:
    """The article Part 3.3: 14 H100s, ~$27,000/month on-demand, ~$17,000/month spot (730 h)."""
    p = plan("h100-sxm")
    assert p.gpus == 14
    assert p.monthly_cost("on-demand").usd_per_month == pytest.approx(14 * 2.64 * 730)
    assert round(p.monthly_cost("on-demand").usd_per_month, -3) == 27000
    assert round(p.monthly_cost("spot").usd_per_month, -3) == 17000


def test_worked_example_b200_fleet() -> None:
    """The article Part 3.3: 2 B200s, $6.03 × 2 × 730 = ~$8,800/month on-demand, ~$3,100 spot."""
    p = plan("b200")
    assert p.gpus == 2
    assert round(p.monthly_cost("on-demand").usd_per_month, -2) == 8800
    assert round(p.monthly_cost("spot").usd_per_month, -2) == 3100
    assert HOURS_PER_MONTH == 730


def test_worked_example_autoscaling() -> None:
    """The article Part 3.3: a peak-to-average ratio of 2x means paying for 28 GPU-hours per
    peak-hour-equivalent of demand on H100 and 4 on B200."""
    h100, b200 = plan("h100-sxm"), plan("b200")
    assert h100.autoscaling.gpu_hours_per_peak_hour_equivalent.value == 28
    assert b200.autoscaling.gpu_hours_per_peak_hour_equivalent.value == 4
    # at the average (10,000 tok/s) 7 H100s and 1 B200 suffice
    assert h100.autoscaling.average_gpus == 7
    assert b200.autoscaling.average_gpus == 1
    assert h100.autoscaling.idle_fraction_static == pytest.approx(1 - 10000 / 21000)


def test_prefill_check_against_the_article_ceiling() -> None:
    """The article Part 3.3: 40,000 input tok/s against one B200's ~96,000 tok/s prefill ceiling
    (Part 1.3: 0.75 × 18 PF / (2 × 70.55e9) = 95,672 under its figures)."""
    ceiling = given(95672.0)
    capacity = GpuCapacity("b200", "b200", Throughput(10000, "output"), prefill_ceiling=ceiling)
    p = size_fleet(WORKED, capacity, quotes("b200"))
    assert p.prefill is not None and p.prefill.ok
    assert p.prefill.required_tok_s == 40000
    assert p.prefill.gpu_equivalents == pytest.approx(40000 / 95672)  # under half of one GPU
    assert p.prefill.share_of_fleet == pytest.approx(40000 / (2 * 95672))
    assert p.binding == "decode throughput"


def given(value: float) -> Derived:
    return derived("given", "a figure given to the test", value, "tok/s", "given", ())


def test_prefill_binds_when_the_ceiling_is_small() -> None:
    # 40,000 input tok/s on GPUs whose prefill ceiling is 10,000 tok/s needs 4 GPUs, not 2
    p = size_fleet(WORKED, GpuCapacity("b200", "b200", Throughput(10000, "output"), prefill_ceiling=given(10000.0)))
    assert p.gpus == 4 and p.binding == "prefill compute"


def test_decode_only_throughput_adds_prefill_time() -> None:
    # 20,000/10,000 = 2 decode GPU-equivalents + 40,000/95,672 = 0.42 prefill → ceil(2.42) = 3
    p = size_fleet(
        WORKED,
        GpuCapacity(
            "b200", "b200", Throughput(10000, "output"), includes_prefill=False, prefill_ceiling=given(95672.0)
        ),
    )
    assert p.gpus == 3 and p.binding == "prefill compute"


def test_kv_check_counts_requests_in_flight() -> None:
    """Little's law: 50 req/s × 400 tokens / 50 tok/s/user = 400 requests in flight, each up to
    1,200 tokens: 480,000 KV tokens."""
    kv = given(100000.0)  # KV tokens per GPU
    p = size_fleet(WORKED, GpuCapacity("b200", "b200", Throughput(10000, "output"), tok_s_per_user=50, kv_tokens=kv))
    assert p.kv is not None
    assert p.kv.requests_in_flight == pytest.approx(400)
    assert p.kv.tokens_needed == pytest.approx(480000)
    assert p.gpus == 5 and p.binding == "KV capacity" and p.kv.ok


def test_tensor_parallel_rounds_to_whole_replicas() -> None:
    p = size_fleet(Traffic(10, 1000, 1000), GpuCapacity("h100", "h100", Throughput(3000, "output"), tp=4))
    assert p.decode.value == 4  # 10,000 / 3,000 = 3.3 GPUs → one TP=4 replica
    p = size_fleet(Traffic(20, 1000, 1000), GpuCapacity("h100", "h100", Throughput(3000, "output"), tp=4))
    assert p.gpus == 8


def test_fleet_inputs_are_validated() -> None:
    with pytest.raises(UsageError, match="requests per second must be a positive number"):
        Traffic(-1, 800, 400)
    with pytest.raises(UsageError, match=r"peak-to-average must be a positive number from 1 to 1e\+06"):
        Traffic(50, 800, 400, peak_to_average=0.5)
    with pytest.raises(UsageError, match="no 'reserved' price"):
        plan("b200").monthly_cost("reserved")


# ---------------------------------------------------------------- 3.4-3.5 power and TCO
def test_tokens_per_mw_ratio() -> None:
    """The article Part 3.5: 4x throughput / 1.43x power (1,000 W vs 700 W) ≈ 2.8x tokens per MW,
    'roughly 3x'. PUE and server overhead cancel in the ratio."""
    b200 = tokens_per_provisioned_mw(Throughput(10000, "output"), 1000, pue=1.3, server_overhead=0.25)
    hopper = tokens_per_provisioned_mw(Throughput(2500, "output"), 700, pue=1.3, server_overhead=0.25)
    ratio = power_efficiency_ratio(b200, hopper)
    assert ratio.value == pytest.approx(4 * 700 / 1000)
    assert round(ratio.value) == 3
    # one MW provisioned at PUE 1.3 and 25 % server overhead: 1e6 / (1000 × 1.25 × 1.3) GPUs
    assert b200.value == pytest.approx(10000 * 1e6 / (1000 * 1.25 * 1.3))


def test_energy_share_of_tco() -> None:
    """The article Part 3.4: 20 % fewer tokens per MW at a 20 % energy share is 'less than 4 % of
    TCO' (20 % × 20 %); exactly, energy per token rises 1/0.8 = 1.25×, so 5 %."""
    impact = energy_share_of_tco(0.20, 0.20)
    assert impact.linear.value == pytest.approx(0.04)
    assert impact.exact.value == pytest.approx(0.05)
    with pytest.raises(UsageError, match="efficiency gap"):
        energy_share_of_tco(1.2, 0.2)


def test_energy_cost_per_million() -> None:
    # 1,000 W × PUE 1.25 = 1.25 kW × $0.10/kWh = $0.125/h over 36e6 tokens/h = $0.00347 per 1M
    d = energy_cost_per_million(Throughput(10000, "output"), 1000, 0.10, pue=1.25)
    assert d.value == pytest.approx(0.125 / 36e6 * 1e6)


# ---------------------------------------------------------------- payback
def test_payback_of_one_time_costs() -> None:
    # the worked example's on-demand saving: 14 × 2.64 × 730 − 2 × 6.03 × 730 = $18,177/month
    current, candidate = 14 * 2.64 * 730, 2 * 6.03 * 730
    p = payback(50000, current, candidate)
    assert p.monthly_savings_usd == pytest.approx(18177.0)
    assert p.months == pytest.approx(50000 / 18177.0)
    never = payback(50000, candidate, current)
    assert not never.pays_back and math.isinf(never.months)
    with pytest.raises(UsageError, match="one-time migration cost"):
        payback(-1, current, candidate)


def test_break_even_price() -> None:
    # 2 B200s cost what 14 H100s on-demand cost at 26,980.80 / (2 × 730) = $18.48 per GPU-hour
    d = break_even_price(14 * 2.64 * 730, 2)
    assert d.value == pytest.approx(18.48)
    assert d.inputs[0].source is DERIVED
    assert GB == 1e9
