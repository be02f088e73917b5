"""The cost and fleet commands as a user runs them.

Prices: the built-in snapshot spheron@2026-05-22 holds the article's quoted Spheron rates (Part
3.1: H100 $2.64/$1.66, B200 $6.03/$2.12). Throughputs are the article's (Part 3.1 table).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blackwell_decide.cli import main
from cli_run import CliRun, run_cli

SPHERON = ["--provider", "spheron", "--as-of", "2026-05-22"]
# The article's worked example (Part 3.3): 50 requests/s of 800 input and 400 output tokens, on H100 at
# ~1,500 TPS per GPU against B200 at ~10,000 (Part 3.1).
ARTICLE_FLEET = [
    *("fleet", "--requests-per-s", "50", "--isl", "800", "--osl", "400"),
    *("--gpu", "h100-sxm", "--throughput", "1500", "--candidate-gpu", "b200", "--candidate-throughput", "10000"),
]


def run(*args: str) -> CliRun:
    return run_cli(*args)


def test_cost_json_per_tier_and_basis(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "cost",
            "--gpu",
            "b200",
            "--throughput",
            "10000",
            "--throughput-basis",
            "total",
            "--isl",
            "1024",
            "--osl",
            "1024",
            "--token-basis",
            "output",
            "--token-basis",
            "total",
            *SPHERON,
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    costs = {(c["tier"], c["token_basis"]): c["usd_per_million_tokens"] for c in doc["costs"]}
    # the article Part 3.1: $6.03 / (10,000 × 3,600) × 1e6 = $0.1675 per 1M total tokens; per output
    # token (5,000 of the 10,000 at 1k/1k) twice that
    assert costs[("on-demand", "total")] == pytest.approx(0.1675)
    assert costs[("on-demand", "output")] == pytest.approx(0.335)
    assert costs[("spot", "total")] == pytest.approx(2.12 / 36e6 * 1e6)
    assert "unconfirmed" in doc["prices"]


def test_cost_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--gpu", "h100-sxm", "--throughput", "1500", *SPHERON]) == 0
    out = capsys.readouterr().out
    assert "0.489" in out and "0.307" in out  # the article Part 3.1: $0.49 / $0.31


def test_cost_ratio_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    """The article Part 3.1: ~2.9x on-demand; '~8x on spot' is the mixed pair H100 on-demand vs
    B200 spot (8.30x); spot vs spot is 5.22x."""
    assert (
        main(
            [
                "cost",
                "--gpu",
                "h100-sxm",
                "--throughput",
                "1500",
                "--candidate-gpu",
                "b200",
                "--candidate-throughput",
                "10000",
                *SPHERON,
                "--json",
            ]
        )
        == 0
    )
    cells = {
        (c["baseline_tier"], c["candidate_tier"]): c
        for c in json.loads(capsys.readouterr().out)["ratio_matrix"]["cells"]
    }
    assert cells[("on-demand", "on-demand")]["ratio"] == pytest.approx(2.919, abs=0.001)
    assert cells[("spot", "spot")]["ratio"] == pytest.approx(5.220, abs=0.001)
    assert cells[("on-demand", "spot")]["ratio"] == pytest.approx(8.302, abs=0.001)
    assert cells[("on-demand", "spot")]["mixed_tiers"] and not cells[("spot", "spot")]["mixed_tiers"]


def test_cost_from_a_price_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'provider = "Acme"\nas_of = 2026-07-01\n[[quote]]\ngpu = "B200"\ntier = "reserved-1y"\n'
        "usd_per_gpu_hour = 3.60\n",
        encoding="utf-8",
    )
    assert main(["cost", "--gpu", "b200", "--throughput", "10000", "--prices", str(prices), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["costs"][0]["usd_per_million_tokens"] == pytest.approx(0.1)  # 3.60 / 36e6 × 1e6


def test_fleet_worked_example_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The article Part 3.3: 50 req/s × (800 in, 400 out), 14 H100 at ~1,500 TPS vs 2 B200 at
    ~10,000 TPS; 40,000 input tok/s against the B200's ~96,000 tok/s prefill ceiling (article
    conventions: 0.75 × 18 PF / (2 × 70.55e9)); peak-to-average 2 → 28 vs 4 GPU-hours."""
    code = main(
        [
            "fleet",
            "--requests-per-s",
            "50",
            "--isl",
            "800",
            "--osl",
            "400",
            "--peak-to-average",
            "2",
            "--interactivity",
            "50",
            "--model",
            "llama-3.3-70b",
            "--gpu",
            "h100-sxm",
            "--weights",
            "fp8",
            "--throughput",
            "1500",
            "--candidate-gpu",
            "b200",
            "--candidate-weights",
            "nvfp4",
            "--candidate-throughput",
            "10000",
            *SPHERON,
            "--conventions",
            "article",
            "--one-time-cost",
            "50000",
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    base, cand = doc["baseline"], doc["candidate"]
    assert (base["gpus"], cand["gpus"]) == (14, 2)
    monthly = {m["tier"]: m["usd_per_month"] for m in base["monthly"]}
    assert monthly["on-demand"] == pytest.approx(26980.8) and monthly["spot"] == pytest.approx(16965.2)
    monthly = {m["tier"]: m["usd_per_month"] for m in cand["monthly"]}
    assert monthly["on-demand"] == pytest.approx(8803.8) and monthly["spot"] == pytest.approx(3095.2)
    assert cand["prefill_check"]["required_input_tok_s"] == 40000
    assert cand["prefill_check"]["prefill_ceiling_tok_s_per_gpu"] == pytest.approx(95672, abs=1)
    assert cand["prefill_check"]["ok"]
    assert base["autoscaling"]["gpu_hours_per_peak_hour_equivalent"] == 28
    assert cand["autoscaling"]["gpu_hours_per_peak_hour_equivalent"] == 4
    assert doc["monthly_savings_same_tier"]["on-demand"] == pytest.approx(18177.0)
    assert doc["payback"]["on-demand"]["payback_months"] == pytest.approx(50000 / 18177.0)
    # 400 requests in flight × 1,200 tokens fit in both fleets' KV caches
    assert base["kv_check"]["kv_tokens_needed"] == pytest.approx(480000) and base["kv_check"]["ok"]


def test_fleet_physics_prefill_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    """With the physics (dense 9 PF FP4, 69.50e9 multiplied parameters): 0.75 × 9e15 / (2 ×
    69.50e9) = 48,560 tok/s per B200 counting the lm_head for every token; the 40,000 input tok/s
    still fit in one GPU's worth. fleet takes the ceiling at the prompt length decide and rank size
    with (the 800-token prompt, economics.sizing): the lm_head once per prompt (2.10e9 FLOPs at
    BF16's 2.25 PF) and causal attention over 800 tokens (1.05e9 FLOPs at FP8's 4.5 PF) beside the
    1.369e11 dense FLOPs at 9 PF give 0.75 / 1.5445e-5 s = 48,558."""
    assert (
        main(
            [
                "fleet",
                "--requests-per-s",
                "50",
                "--isl",
                "800",
                "--osl",
                "400",
                "--model",
                "llama-3.3-70b",
                "--gpu",
                "b200",
                "--weights",
                "nvfp4",
                "--throughput",
                "10000",
                *SPHERON,
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    check = doc["baseline"]["prefill_check"]
    assert check["prefill_ceiling_tok_s_per_gpu"] == pytest.approx(48560, rel=0.01)
    assert check["prefill_ceiling_tok_s_per_gpu"] == pytest.approx(48558, abs=1)
    assert check["gpu_equivalents_of_prefill"] == pytest.approx(40000 / 48558, rel=1e-4)


def test_fleet_power(capsys: pytest.CaptureFixture[str]) -> None:
    """Board power from the catalog (H100 SXM 700 W, B200 1,000 W; the article Part 3.2) × PUE 1.3:
    14 H100 draw 12.74 kW provisioned; 1,500 tok/s per 910 W is 1.648 M tok/s per MW."""
    assert (
        main(
            [
                *ARTICLE_FLEET,
                "--pue",
                "1.3",
                *SPHERON,
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["baseline"]["power"]["provisioned_kw"] == pytest.approx(14 * 700 * 1.3 / 1e3)
    assert doc["baseline"]["power"]["output_tok_s_per_provisioned_mw"] == pytest.approx(1500 / (700 * 1.3 / 1e6))
    ratio = (
        doc["candidate"]["power"]["output_tok_s_per_provisioned_mw"]
        / doc["baseline"]["power"]["output_tok_s_per_provisioned_mw"]
    )
    assert ratio == pytest.approx(10000 / 1500 * 700 / 1000)


def test_fleet_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                *ARTICLE_FLEET,
                *SPHERON,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "$26,981" in out and "$8,804" in out and "not checked" in out


def test_fleet_text_writes_a_dearer_candidate_with_a_minus_sign(capsys: pytest.CaptureFixture[str]) -> None:
    # 1 request/s × 400 output tokens = 400 tok/s: one H100 at 1,500 tok/s, one B200 at 1,000 tok/s.
    # Spheron 2026-05-22 (article Part 3.1): H100 $2.64 / $1.66 spot, B200 $6.03 / $2.12 spot; a 730-hour month.
    args = ["fleet", "--requests-per-s", "1", "--isl", "800", "--osl", "400", "--gpu", "h100-sxm"]
    args += ["--throughput", "1500", "--candidate-gpu", "b200", "--candidate-throughput", "1000", *SPHERON]
    args += ["--one-time-cost", "5000"]
    assert main(args) == 0
    out = capsys.readouterr().out
    on_demand = round((2.64 - 6.03) * 730)  # −$2,475
    spot = round((1.66 - 2.12) * 730)  # −$336
    assert (on_demand, spot) == (-2475, -336)
    assert "monthly savings (same tier both sides): on-demand \N{MINUS SIGN}$2,475; spot \N{MINUS SIGN}$336" in out
    assert "$-" not in out
    assert "payback of $5,000 at on-demand: never (no saving)" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["cost", "--gpu", "b200", "--throughput", "-5"], "must be a positive number"),
        (["cost", "--gpu", "b200", "--throughput", "100", "--provider", "nope"], "unknown price provider 'nope'"),
        (["cost", "--gpu", "b200", "--throughput", "100", *SPHERON, "--tier", "reserved"], "unknown tier 'reserved'"),
        (
            ["cost", "--gpu", "b200", "--throughput", "100", "--provider", "spheron", "--as-of", "2026-13-01"],
            "not a date",
        ),
        (
            ["cost", "--gpu", "b200", "--throughput", "100", "--provider", "spheron", "--as-of", "2020-01-01"],
            "no price snapshot dated 2020-01-01",
        ),
        (["cost", "--gpu", "b200", "--throughput", "100", "--as-of", "2026-05-22"], "--as-of needs --provider"),
        (["cost", "--gpu", "b200", "--throughput", "100", "--throughput-basis", "total", *SPHERON], "--isl and --osl"),
        (["cost", "--gpu", "b200"], "no throughput"),
        (["cost", "--throughput", "100"], "cost needs --gpu"),
        (
            ["fleet", "--requests-per-s", "-1", "--isl", "800", "--osl", "400", "--gpu", "b200", "--throughput", "1"],
            "must be a positive number",
        ),
        (
            [
                "fleet",
                "--requests-per-s",
                "50",
                "--isl",
                "800",
                "--osl",
                "400",
                "--peak-to-average",
                "0.5",
                "--gpu",
                "b200",
                "--throughput",
                "1",
                *SPHERON,
            ],
            "peak-to-average must be a positive number from 1 to 1e+06",
        ),
        (["fleet", "--requests-per-s", "50", "--isl", "800", "--osl", "400", "--gpu", "b200"], "no throughput"),
        (
            [
                "fleet",
                "--requests-per-s",
                "50",
                "--isl",
                "800",
                "--osl",
                "400",
                "--gpu",
                "b200",
                "--throughput",
                "1",
                "--pue",
                "0.5",
                *SPHERON,
            ],
            "--pue must be 1 or more",
        ),
    ],
)
def test_bad_input_exits_2(args: list[str], needle: str) -> None:
    r = run(*args)
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_price_file_without_a_date_exits_2(tmp_path: Path) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text(
        'provider = "Acme"\n[[quote]]\ngpu = "b200"\ntier = "on-demand"\nusd_per_gpu_hour = 4.0\n', encoding="utf-8"
    )
    r = run("cost", "--gpu", "b200", "--throughput", "100", "--prices", str(prices))
    assert r.returncode == 2
    assert "as_of: missing" in r.stderr and "Traceback" not in r.stderr
