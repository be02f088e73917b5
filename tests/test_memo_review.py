"""Memo review findings: each figure the memo shows twice comes from one computation, and a
sentence states what the fleet does, not a hedge (the figures are those of examples/s*.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.report import render_memo
from blackwell_decide.rules import Decision, decide_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def hermetic() -> Catalog:
    return build_catalog(entry_points=False)


def _memo(name: str, catalog: Catalog) -> tuple[Decision, str]:
    decision = decide_scenario(EXAMPLES / f"{name}.toml", catalog)
    text, _ = render_memo(decision, "md", catalog=catalog)
    return decision, text


def test_prefill_share_is_one_figure_in_the_situation_and_the_fleet_table(hermetic: Catalog) -> None:
    decision, text = _memo("s4-h200-fleet", hermetic)
    cur = decision.facts.current
    assert cur.service is not None and cur.bill is not None
    # s4: 1,000 input and 500 output tokens per request; H200 FP8 TP=1 serves 1,101 output tok/s
    # per GPU with a 10,739 tok/s prefill ceiling (the memo's predictions and roofline tables), so
    # prompts take (1000 / 10,739) / (500 / 1,101) = 20.5 % of its GPU time.
    expected = (1000 / cur.prefill_ceiling_per_gpu) / (500 / cur.service.output_tok_s_per_gpu)
    assert expected == pytest.approx(0.205, abs=0.001)
    assert cur.bill.prefill_share == pytest.approx(expected, rel=1e-9)
    assert "prefill takes 21% of the current fleet's GPU time" in text
    row = next(line for line in text.splitlines() if line.startswith("| H200 SXM 141GB FP8 (rented) | 16 declared"))
    assert row.split(" | ")[3] == "21 %"  # was 19 %: the fleet check's R_in / (N × ceiling) on 5 GPUs
    assert "the prefill-heavy situation reads the same figure" in text


def test_a_fleet_short_beyond_the_models_band_is_said_not_to_serve_the_load(hermetic: Catalog) -> None:
    decision, text = _memo("s6-accuracy-bound", hermetic)
    check, cur = decision.facts.fleet_check, decision.facts.current
    assert check is not None and cur.service is not None
    # s6: 20 requests/s × 400 output tokens = 8,000 output tok/s at peak over 16 declared H100s: 500 per GPU;
    # the model gives an H100 FP8 TP=1 195 at 30 tok/s per user (the re-tune line of the memo), so even at
    # the top of its band the 16 carry under half of the peak.
    assert check.required_tok_s_per_gpu == pytest.approx(500.0)
    best = cur.service.output_tok_s_per_gpu * (1 + cur.service.band[1])
    assert check.served_at_best == pytest.approx(16 * best / 8000, rel=1e-9)
    assert check.beyond_band and check.served_at_best is not None and check.served_at_best < 0.5
    assert (
        "Today's 16 × H100 SXM5 80GB ($30,835/month) does not serve the load: at 30 tok/s per user the peak needs "
        f"8,000 output tok/s, 500 per GPU on 16; the model gives each h100-sxm at TP=1 "
        f"{cur.service.output_tok_s_per_gpu:,.0f} ({best:,.0f} at the top of its"
    ) in text
    assert f"27 GPUs short of the {check.modelled} it needs." in text and check.modelled == 43
    assert "a benchmark and `check-bench` settle it" not in text
    assert "the model is pessimistic for this setup" not in text


def test_the_headline_saving_is_the_tables_and_says_when_it_is_the_top_of_its_range(hermetic: Catalog) -> None:
    decision, text = _memo("s6-accuracy-bound", hermetic)
    facts, rec = decision.facts, decision.recommendation
    base = facts.against_baseline(rec.option or "")
    assert rec.ledger is not None
    c = rec.ledger.confidence
    assert c is not None
    # One number: the saving over the re-tuned H100s (10 × $2.64 × 730 − 3 × $6.03 × 730 = $6,066) in
    # the headline, the summary bullet and the migration table alike
    assert base.monthly_savings_usd == pytest.approx(10 * 2.64 * 730 - 3 * 6.03 * 730)
    assert text.count("$6,066/month") >= 1 and "| $19,272 | $13,206 | $6,066 (31 %) |" in text
    # ... and that number is the p90 of the sampled range: 3 B200s at 2,701 output tok/s per GPU hold the
    # 8,000 the peak needs (2,667 each) with 1.3 % to spare, so a little less throughput adds a GPU
    assert base.monthly_savings_usd == pytest.approx(c.p90, abs=0.5)
    option = facts.option(rec.option or "")
    assert option.service is not None and option.gpus == 3
    spare = option.service.output_tok_s_per_gpu / (8000 / 3) - 1
    assert spare == pytest.approx(0.013, abs=0.001)
    assert (
        f"the saving quoted is the top of that range (median ${c.p50:,.0f}): at the model's central throughput "
        "3 × B200 (HGX, 180 GB) FP8 (rented) hold the peak with 1.3 % to spare"
    ) in text
    assert "$6,066 (at the model's central throughput: the top of the p10–p90 range below)" in text


def test_a_quoted_saving_inside_its_range_names_no_edge(hermetic: Catalog) -> None:
    decision, text = _memo("s4-h200-fleet", hermetic)
    ledger = decision.recommendation.ledger
    assert ledger is not None
    c = ledger.confidence
    # s4's quoted $2,511 is the p10 (the baseline's 4 H200s have the thin headroom, not the B200s)
    assert c is not None and c.edge is None and c.p10 == pytest.approx(2511, abs=1)
    assert "the saving quoted is the top" not in text


def test_an_h200_fleet_gets_the_inferencemax_h200_record(hermetic: Catalog) -> None:
    decision, text = _memo("s4-h200-fleet", hermetic)
    tri = decision.facts.triangulation
    assert tri is not None and (tri.candidate, tri.baseline) == ("b200", "h200-sxm")
    by_label = {e.label: e for e in tri.estimates}
    # InferenceMAX v1 as quoted: B200 NVFP4 about 4× H200 FP8 at 50 tok/s/user (records.toml,
    # inferencemax-v1-b200-vs-h200-llama70b-50tps), measured against H200: taken as published
    imx = by_label["InferenceMAX v1 (as quoted)"]
    assert imx.evidence_ids == ("inferencemax-v1-b200-vs-h200-llama70b-50tps",)
    assert imx.restatement is None and imx.restated == pytest.approx(4.0)
    # MLPerf's B200 over H100 moves onto H200 by the bandwidths: × 3.35 / 4.8 (the catalog's HBM figures)
    h100, h200 = hermetic.accelerators.get("h100-sxm"), hermetic.accelerators.get("h200-sxm")
    server = by_label["MLPerf v4.1 server"]
    assert server.restated == pytest.approx(server.value * h100.hbm_bandwidth / h200.hbm_bandwidth, rel=1e-9)
    # the decode floor against H200 is the memo's own bound (2.33× lower, the s4-newer-current-fleet line)
    assert by_label["first principles, decode floor (TP=1 on both)"].restated == pytest.approx(2.33, abs=0.005)
    assert "No published measurement pairs these two deployments" not in text
    assert (
        "| InferenceMAX v1 (as quoted) [2] | per-GPU throughput at 50 tok/s/user | 4.00× | h200-sxm | 4.00× |" in text
    )


def test_gb200_nvl72_is_one_rack_of_72_gpus_on_the_premises(hermetic: Catalog) -> None:
    decision, text = _memo("s5-air-cooled-onprem", hermetic)
    gb200 = decision.facts.option("gb200-nvfp4-on-premises")
    b200 = decision.facts.option("b200-nvfp4-on-premises")
    assert gb200.rack is not None and b200.rack is not None
    # GB200 is sold as the NVL72 rack (the catalog's form factor, "... NVL72 rack"): 72 × 1,200 W × (1 + 0.8
    # server overhead, s5's facility) = 155.5 kW, not the site's 8-GPU server (8 × 1,200 × 1.8 = 17.3 kW)
    assert gb200.rack.server_gpus == 72 and gb200.rack.server_kw == pytest.approx(72 * 1.2 * 1.8)
    assert b200.rack.server_gpus == 8 and b200.rack.server_kw == pytest.approx(8 * 1.0 * 1.8)
    assert "it comes as one NVL72 rack of 72 GPUs, drawing 155.5 kW against the site's 12 kW per rack" in text
    assert "| GB200 NVFP4 on premises (owned) | liquid (site: air) | 155.5 kW (NVL72 rack of 72 GPUs) |" in text
    assert "one 8-GPU server draws 14.4 kW against 12 kW per rack (0 servers per rack)" in text
    assert "one 8-GPU server draws 17.3 kW" not in text


def test_the_fp8_fallback_is_sized_over_the_candidates_tp_choices(hermetic: Catalog) -> None:
    decision, text = _memo("s6-accuracy-bound", hermetic)
    facts = decision.facts
    candidate = facts.option("b200-nvfp4")
    fallback = facts.derived_from("b200-nvfp4", "fp8-fallback")
    assert fallback is not None
    # both searched over TP = 1, 2, 4, 8 (the memo's "tensor-parallel sizes tried" lines); the FP8 weights
    # (70.6 GB) fit one B200, so TP=1 serves most per GPU: 2,701 output tok/s (s6 fleet section)
    assert [tp for tp, _ in candidate.tp_throughput] == [tp for tp, _ in fallback.tp_throughput] == [1, 2, 4, 8]
    assert fallback.tp == 1 and fallback.service is not None
    assert fallback.service.output_tok_s_per_gpu == max(rate for _, rate in fallback.tp_throughput)
    assert "B200 (HGX, 180 GB) FP8 (rented), tensor-parallel sizes tried: TP=1: 2,701 output tok/s per GPU;" in text


def test_the_situations_unit_costs_say_full_load_and_what_they_compare(hermetic: Catalog) -> None:
    decision, text = _memo("s4-h200-fleet", hermetic)
    cur, b200 = decision.facts.current, decision.facts.option("b200-nvfp4")
    assert cur.cost_per_million_output is not None and b200.cost_per_million_output is not None
    # the spot unit costs of the cost-by-tier table: $1.92 / (1,101 × 3600) × 1e6 = $0.484 (H200),
    # $2.12 / (4,506 × 3600) × 1e6 = $0.131 (B200): 3.71× cheaper, at full load, not the bill
    ratio = cur.cost_per_million_output.value / b200.cost_per_million_output.value
    assert f"{ratio:.2f}" == "3.71"
    assert (
        "unit cost per output token at full load, today's 16 GPUs → B200 NVFP4 (rented), like for like by tier: "
        "on-demand 3.13× cheaper ($1.165 → $0.372 per 1M), spot 3.71× cheaper ($0.484 → $0.131 per 1M)"
    ) in text
    assert (
        "unit cost per 1M input tokens at full load (each GPU busy at the service level), today's GPUs → "
        "B200 NVFP4 (rented): $0.242 → $0.065 at spot prices"
    ) in text


def test_a_saving_line_names_each_sides_price_tier(hermetic: Catalog) -> None:
    _, text = _memo("s5-air-cooled-onprem", hermetic)
    # s5: today's 32 owned H100s at their marginal $0.38/GPU-h (32 × 0.38 × 730 ≈ $8,785), the rented B200s
    # on demand at $6.03 (2 × 6.03 × 730 = $8,804): the line said "at on-demand prices" for both
    assert (
        "would cost $8,804/month (2 GPUs) against $8,785 today (32 GPUs) at on-demand prices (today's fleet: marginal)"
    ) in text
    assert (
        "against $1,647 for today's GPUs re-tuned to TP=2 (6 GPUs) at on-demand prices (that fleet: marginal)" in text
    )


def test_each_decode_floor_ratio_names_its_baseline(hermetic: Catalog) -> None:
    _, text = _memo("s4-h200-fleet", hermetic)
    # s4's physical-bounds table: H200 FP8 TP=1 17.46 ms, B200 NVFP4 7.51 ms (2.33×); the re-tuned TP=2
    # H200s 10.25 ms (1.37×, the bounds section's comparison line). The situation quoted 1.37× bare
    # beside a reason quoting 2.33×: each now says which fleet it is against.
    assert "the weaker case — floor 1.37× lower than today's GPUs re-tuned to TP=2 (4 GPUs)," in text
    assert "the batch-1 decode floor, today's 16 GPUs → B200 NVFP4 (rented), falls from 17.46 to 7.51 ms (2.33×" in text
    assert "decode floor 10.25 → 7.51 ms, 1.37× lower than H200 SXM 141GB FP8 TP=2 (rented, re-tuned)" in text


def test_a_market_place_shared_by_equal_bills_is_the_first_of_them(hermetic: Catalog) -> None:
    _, text = _memo("s4-h200-fleet", hermetic)
    # s4: B200 NVFP4 and B200 FP8 both hold the peak on 2 GPUs at Spheron's $2.12 spot (2 × 2.12 × 730 =
    # $3,095); the candidate read "#3 of 172" beside the fallback's "#1 of 172" for the same bill
    rows = [line for line in text.splitlines() if "| candidate |" in line or "| fp8-fallback |" in line]
    assert len(rows) == 2 and all(row.endswith("| #1 of 172, tied with 13 other(s) (2 GPUs, $3,095) |") for row in rows)


def test_the_cost_cut_target_is_stated_on_the_migration_table_figure() -> None:
    """s4: the migration table totals $85,000; the months of both fleets ($3,095) come on top. The
    12-month limit allows 12 × $2,511.2 saving = $30,134 in all, so the migration must come under
    $30,134 − $3,095 = $27,039 (the memo said "under $30,134" beside a $85,000 table total)."""
    text = (EXAMPLES / "s4-h200-fleet.md").read_text(encoding="utf-8")
    assert "migrate if the migration cost ($85,000) can be brought under $27,039 ($30,134 with the $3,095" in text
    assert "| **total** | **$85,000** |" in text


def test_an_excluded_option_is_marked_in_the_payback_table() -> None:
    """s6: B200 NVFP4 is excluded on accuracy (99.0 % recovery below the required 99.5 %) yet sat
    in the payback table with the best payback (7.5 months) and no mark."""
    text = (EXAMPLES / "s6-accuracy-bound.md").read_text(encoding="utf-8")
    assert "| B200 NVFP4 (rented) (excluded: below the required accuracy) | $19,272 | $8,804 |" in text


def test_the_price_risk_reads_only_quotes_up_to_the_decision_date() -> None:
    """s1 decides on 2026-05-22 with prices on or before it; the price risk quoted $8.32 dated
    2026-06-03 (spheron.toml), a quote nobody had when deciding, and ranged "$6.03 to $6.03"."""
    text = (EXAMPLES / "s1-h100-chat-fleet.md").read_text(encoding="utf-8")
    assert "Spheron's on-demand price for b200 held at $6.03 from 2026-03-17 to 2026-05-22 across 2 dated" in text
    assert "2026-06-03" not in text


def test_todays_kv_room_is_that_of_the_declared_gpus() -> None:
    """s6: 16 declared H100s, 43 sized by the model at 8,010 KV tokens each (s6's fleet section):
    the row showed 344,430 available (43 × 8,010) beside a need of 340,394, reading as "fits";
    the 16 hold 16 × 8,010 = 128,160."""
    text = (EXAMPLES / "s6-accuracy-bound.md").read_text(encoding="utf-8")
    assert "| 340,394 / 128,160 on the 16 declared (does not fit; 344,430 on 43) |" in text
    assert "| KV tokens needed / available |" in text
