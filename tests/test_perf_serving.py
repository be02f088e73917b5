"""Speculative decoding and prefix caching as deployment settings.

Expected figures: the public EAGLE-3 measurements shipped in datasets/speculative_decoding.json
(Tencent AngelSlim benchmark table at commit 5774f961, vLLM, one GPU, one stream): Qwen3-32B
43.32 -> 74.1 tok/s at a mean acceptance length of 1.91, a speedup of 0.896 x the acceptance
length (drafting and verification cost 11.6 %). At an acceptance length of 2.5 that measured
efficiency gives 2.5 x 0.896 = 2.24x.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from blackwell_decide import max_throughput, predict, resolve_deployment
from blackwell_decide.builtin.calibration import builtin_profiles
from blackwell_decide.cli import main
from blackwell_decide.errors import UsageError
from blackwell_decide.model import Deployment
from blackwell_decide.perf import Workload, deployment_terms
from blackwell_decide.perf.serving import (
    ServingFeatures,
    SpeculativeDecoding,
    default_draft_cost,
    min_acceptance_length,
    prefill_work_s,
    published_speedups,
    speculative_floor_tpot,
)

SHAPE = Workload(922, 922)


@pytest.fixture(scope="module")
def h200() -> Deployment:
    # H200 FP8 TP1 Llama 3.3 70B: memory-bound decode (the shipped sweep measured it, rows 121-125)
    return resolve_deployment(model="llama-3.3-70b", gpu="h200-sxm", weights="fp8", kv="fp8", tp=1)


def _measured_efficiency() -> float:
    [row] = [r for r in published_speedups() if r["id"] == "ANGELSLIM-QWEN3-32B"]
    assert row["source"]["url"].startswith("https://github.com/Tencent/AngelSlim/blob/5774f961")
    return float(row["speculative_tok_s"] / row["baseline_tok_s"] / row["acceptance_length"])


def test_acceptance_2_5_gives_the_measured_speedup_and_a_tpot_below_the_plain_floor(h200: Deployment) -> None:
    expected = 2.5 * _measured_efficiency()
    assert expected == pytest.approx(2.239, abs=0.001)
    plain = predict(h200, SHAPE, engine="vllm", concurrency=4)
    eagle = ServingFeatures(SpeculativeDecoding("eagle", 2.5))
    spec = predict(h200, SHAPE, engine="vllm", concurrency=4, features=eagle)
    assert isinstance(plain.tpot_s, float) and isinstance(spec.tpot_s, float)
    factor = plain.tpot_s / spec.tpot_s
    low, high = spec.band
    assert expected * (1 + low) <= factor <= expected * (1 + high)  # within the prediction's band
    assert factor == pytest.approx(expected, rel=0.10)  # and within 10 % of the measured efficiency
    assert spec.tpot_s < spec.floor_tpot_s < plain.tpot_s  # below the plain physical floor
    assert spec.tpot_s >= float(speculative_floor_tpot(deployment_terms(h200), SHAPE, 4, 2.5)[0])
    assert spec.extrapolated and any("without speculative decoding" in n for n in spec.notes)
    assert spec.output_tok_s_per_gpu > 2 * plain.output_tok_s_per_gpu


def test_every_dense_published_row_within_ten_percent_of_the_model(h200: Deployment) -> None:
    # the model's speedup per accepted token at one stream against each shipped measurement
    for row in published_speedups():
        tau = float(row["acceptance_length"])
        plain = predict(h200, SHAPE, concurrency=1)
        spec = predict(h200, SHAPE, concurrency=1, features=ServingFeatures(SpeculativeDecoding("eagle", tau)))
        assert isinstance(plain.tpot_s, float) and isinstance(spec.tpot_s, float)
        measured = row["speculative_tok_s"] / row["baseline_tok_s"]
        assert plain.tpot_s / spec.tpot_s == pytest.approx(measured, rel=0.12), row["id"]


def test_the_gain_shrinks_when_verification_turns_compute_bound(h200: Deployment) -> None:
    eagle = ServingFeatures(SpeculativeDecoding("eagle", 2.5))
    gains = []
    for concurrency in (1, 64, 512):
        plain = predict(h200, SHAPE, concurrency=concurrency)
        spec = predict(h200, SHAPE, concurrency=concurrency, features=eagle)
        gains.append(float(plain.tpot_s) / float(spec.tpot_s))
    assert gains[0] > gains[1] > gains[2]


def test_default_draft_costs_follow_the_architecture(h200: Deployment) -> None:
    arch = h200.model
    # EAGLE: one of 80 decoder layers plus a 32,000 x 8,192 head over 68.45 B + 1.05 B streamed parameters
    p = arch.params
    expected = (p.linear_active / 80 + 32_000 * 8_192) / (p.linear_active + p.lm_head)
    assert default_draft_cost("eagle", arch) == pytest.approx(expected)
    assert 0.015 < default_draft_cost("eagle", arch) < 0.018
    assert default_draft_cost("mtp", arch) > default_draft_cost("eagle", arch)
    assert default_draft_cost("ngram", arch) == 0.0
    with pytest.raises(UsageError, match="--draft-cost"):
        SpeculativeDecoding("draft-model", 2.0)
    with pytest.raises(UsageError, match="draft tokens \\+ 1 = 4"):
        SpeculativeDecoding("eagle", 4.5, draft_tokens=3)


def test_a_half_prefix_cache_halves_the_prefill_work_and_lowers_ttft(h200: Deployment) -> None:
    terms = deployment_terms(h200)
    profile = next(p for p in builtin_profiles() if p.key == "vllm-hopper")
    long_prompts = Workload(8000, 500)
    full = prefill_work_s(terms, profile, long_prompts, None)
    half = prefill_work_s(terms, profile, long_prompts, ServingFeatures(prefix_cache_hit_rate=0.5))
    assert half == pytest.approx(full / 2, rel=1e-12)
    plain = predict(h200, long_prompts, concurrency=16)
    cached = predict(h200, long_prompts, concurrency=16, features=ServingFeatures(prefix_cache_hit_rate=0.5))
    assert float(cached.ttft_s) < float(plain.ttft_s)
    assert float(cached.tpot_s) < float(plain.tpot_s)  # less prefill stretching the running requests' steps
    assert float(cached.output_tok_s_per_gpu) > float(plain.output_tok_s_per_gpu)
    with pytest.raises(UsageError, match="prefix-cache hit rate"):
        ServingFeatures(prefix_cache_hit_rate=1.0)


def test_min_acceptance_length_explains_a_tpot_below_the_floor() -> None:
    assert min_acceptance_length(0.004, 0.010) == pytest.approx(2.5)
    assert np.array_equal(min_acceptance_length([0.02, 0.005], [0.01, 0.01]), [1.0, 2.0])
    with pytest.raises(UsageError):
        min_acceptance_length(0.0, 0.01)


def test_at_maximum_throughput_verification_is_compute_bound_and_speculation_costs(h200: Deployment) -> None:
    # At batches of hundreds decode is compute-bound: verifying k + 1 = 4 positions per request for
    # 2.5 accepted tokens costs throughput, down to at worst 2.5 / 4 of the plain figure.
    plain = max_throughput(h200, SHAPE, engine="vllm")
    spec = max_throughput(h200, SHAPE, engine="vllm", features=ServingFeatures(SpeculativeDecoding("eagle", 2.5)))
    ratio = float(spec.output_tok_s_per_gpu) / float(plain.output_tok_s_per_gpu)
    assert 2.5 / 4 < ratio < 1.0


FLAGS = ["--model", "llama-3.3-70b", "--gpu", "h200-sxm", "--weights", "fp8", "--kv", "fp8"]


def test_predict_cli_flags(capsys: pytest.CaptureFixture[str]) -> None:
    shape = ["--isl", "922", "--osl", "922", "--concurrency", "4", "--json"]
    assert main(["predict", *FLAGS, *shape]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["predict", *FLAGS, *shape, "--draft", "eagle", "--acceptance-length", "2.5"]) == 0
    spec = json.loads(capsys.readouterr().out)
    assert plain["tpot_ms"] / spec["tpot_ms"] == pytest.approx(2.5 * _measured_efficiency(), rel=0.10)
    assert spec["tpot_ms"] < spec["floor_tpot_ms"]
    assert any("speculative decoding: eagle" in n for n in spec["notes"])
    assert main(["predict", *FLAGS, *shape, "--prefix-cache-hit-rate", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["ttft_ms"] < plain["ttft_ms"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--acceptance-length", "2"], "needs --draft"),
        (["--draft", "eagle"], "needs --acceptance-length"),
        (["--draft", "draft-model", "--acceptance-length", "2"], "--draft-cost"),
        (["--prefix-cache-hit-rate", "1.5"], "prefix-cache hit rate"),
        (["--draft", "eagle", "--acceptance-length", "9"], "acceptance length"),
    ],
)
def test_predict_cli_rejects_bad_feature_flags(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", *FLAGS, "--isl", "922", "--osl", "922", "--concurrency", "4", *extra]) == 2
    assert message in capsys.readouterr().err


def test_fleet_sizes_fewer_gpus_with_speculative_decoding(capsys: pytest.CaptureFixture[str]) -> None:
    fleet = [
        "fleet",
        "--requests-per-s",
        "50",
        "--isl",
        "800",
        "--osl",
        "400",
        *FLAGS,
        "--tp",
        "2",
        "--interactivity",
        "50",
    ]
    assert main([*fleet, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["baseline"]["gpus"]
    assert main([*fleet, "--json", "--draft", "eagle", "--acceptance-length", "2.5"]) == 0
    spec = json.loads(capsys.readouterr().out)["baseline"]["gpus"]
    assert spec < plain
