"""The performance model's physics and its public API, against real figures.

Measured figures come from the shipped InferenceMAX sweep (SemiAnalysis, measured 2025-10-29,
republished in ai-dynamo/aiconfigurator silicon_sample.csv at 095f58a5;
src/blackwell_decide/datasets/serving_sweep_llama70b_1k1k.csv, row numbers cited). Catalog
figures (B200: 192.27 GB device memory, 7.7 TB/s; Llama 3.3 70B: 68.45 B linear parameters)
come from the built-in catalog.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackwell_decide import at_interactivity, frontier, max_throughput, predict, resolve_deployment
from blackwell_decide.bounds import compute_bounds
from blackwell_decide.errors import DoesNotFitError, UsageError
from blackwell_decide.model import Deployment
from blackwell_decide.perf import Workload, deployment_terms
from blackwell_decide.perf.physics import decode_floor, kv_request_capacity, simulate
from blackwell_decide.plugins import Catalog, get_catalog

#: InferenceMAX sends lengths drawn from 80-100 % of nominal: the 1k/1k rows have a mean of
#: 0.9 x 1024 = 922 tokens each way (harness setting --random-range-ratio 0.8).
SWEEP_SHAPE = Workload(922, 922)


def deploy(gpu: str, weights: str, tp: int = 1, model: str = "llama-3.3-70b", kv: str | None = "fp8") -> Deployment:
    return resolve_deployment(model=model, gpu=gpu, weights=weights, kv=kv, tp=tp)


@pytest.fixture(scope="module")
def b200_nvfp4() -> Deployment:
    return deploy("b200", "nvfp4")


def test_b200_nvfp4_tpot_at_concurrency_4_matches_the_measurement(b200_nvfp4: Deployment) -> None:
    # Sweep row 70: B200 NVFP4 vLLM TP1, concurrency 4, mean TPOT 13.071 ms (TRT-LLM row 26: 12.056 ms)
    # against a 7.51 ms floor (measured bandwidth and kernel fixed times, test_bounds_article): the
    # measurement is 1.74x the floor, so "slightly above the floor" would still be wrong by ~1.5 ms.
    p = predict(b200_nvfp4, SWEEP_SHAPE, engine="vllm", concurrency=4)
    measured = 13.071e-3
    assert isinstance(p.tpot_s, float)
    assert measured * (1 + p.band[0]) <= p.tpot_s <= measured * (1 + p.band[1])
    assert p.tpot_s == pytest.approx(measured, rel=0.10)
    assert p.floor_tpot_s == pytest.approx(7.508e-3, abs=1e-6)
    assert p.tpot_s > 1.5 * p.floor_tpot_s
    assert not p.extrapolated and p.profile == "vllm-blackwell"


def test_h100_fp8_tp2_tpot_and_ttft_at_concurrency_4(catalog: Catalog) -> None:
    # Sweep row 90: H100 FP8 vLLM TP2, concurrency 4: TPOT 17.407 ms, TTFT 121.308 ms.
    p = predict(deploy("h100-sxm", "fp8", tp=2), SWEEP_SHAPE, engine="vllm", concurrency=4)
    assert p.tpot_s == pytest.approx(17.407e-3, rel=0.10)
    assert p.ttft_s == pytest.approx(121.308e-3, rel=0.30)


def test_batch_one_floor_is_the_bounds_engine_floor(b200_nvfp4: Deployment) -> None:
    # bounds (issue 8): 40.61 GB at the measured 7.07 TB/s plus the kernels' fixed times = 7.51 ms
    # at batch 1 (test_bounds_article); the perf model's own byte floor, 40.61 GB plus 1.5 tokens of
    # KV (163,840 B each) over the spec 7.7 TB/s = 5.27 ms, is held up to it.
    terms = deployment_terms(b200_nvfp4)
    assert terms.floor_batch1_s == pytest.approx(7.508e-3, abs=2e-6)
    floor = decode_floor(terms, Workload(1, 1), np.array([1.0]))
    byte_floor = (40.6077e9 + 1.5 * 163840) / terms.bandwidth
    assert terms.bandwidth == 7.7e12
    assert float(floor[0]) == pytest.approx(terms.floor_batch1_s, rel=1e-12)
    assert float(floor[0]) > byte_floor


@settings(max_examples=40, deadline=None)
@given(
    concurrency=st.integers(min_value=1, max_value=2000),
    isl=st.integers(min_value=1, max_value=32768),
    osl=st.integers(min_value=1, max_value=8192),
    engine=st.sampled_from(["vllm", "trtllm", "sglang"]),
)
def test_no_prediction_beats_the_floor(concurrency: int, isl: int, osl: int, engine: str) -> None:
    d = deploy("h200-sxm", "fp8")
    p = predict(d, Workload(isl, osl), engine=engine, concurrency=concurrency)
    assert isinstance(p.tpot_s, float) and isinstance(p.floor_tpot_s, float)
    assert p.tpot_s >= p.floor_tpot_s > 0
    assert p.ttft_s > 0 and p.output_tok_s_per_gpu > 0


def test_kv_capacity_follows_the_engine_memory_settings(b200_nvfp4: Deployment, catalog: Catalog) -> None:
    # vLLM --gpu-memory-utilization 0.9 of 192.266 GB, minus 42.709 GB of resident weights
    # (68.45 B linear x 0.5625 B + 2 x 1.05 B embedding/lm_head x 2 B) and the 3 GB runtime
    # reserve, over 163,840 B of FP8 KV per token: 777,162 tokens; at 1024 + 512 tokens held on
    # average per request: 505 requests.
    terms = deployment_terms(b200_nvfp4)
    vllm = catalog.calibration_profiles.get("vllm-blackwell")
    requests, tokens = kv_request_capacity(terms, vllm.engine_settings, Workload(1024, 1024))
    assert tokens == pytest.approx((0.9 * 192.2658e9 - 42.709e9 - 3e9) / 163840, rel=1e-4)
    assert requests == 505
    # TensorRT-LLM reserves the whole prompt and output of a request (guaranteed no evict) out of
    # 0.95 of the free memory: fewer requests of the same shape.
    trt = catalog.calibration_profiles.get("trtllm-blackwell")
    trt_requests, _ = kv_request_capacity(terms, trt.engine_settings, Workload(1024, 1024))
    assert trt_requests == int((0.95 * (192.2658e9 - 42.709e9 - 3e9)) / 163840 / 2048)


def test_beyond_kv_capacity_requests_queue(b200_nvfp4: Deployment) -> None:
    p = predict(b200_nvfp4, Workload(1024, 1024), concurrency=np.array([100.0, 505.0, 1000.0, 2000.0]))
    assert p.binding[2:] == ("kv-capacity", "kv-capacity")
    assert p.binding[0] != "kv-capacity"
    tpot = np.asarray(p.tpot_s)
    per_gpu = np.asarray(p.output_tok_s_per_gpu)
    ttft = np.asarray(p.ttft_s)
    # Past the capacity the batch stops growing: TPOT and throughput freeze, the wait grows.
    assert tpot[2] == pytest.approx(tpot[1]) and tpot[3] == pytest.approx(tpot[1])
    assert per_gpu[3] == pytest.approx(per_gpu[1])
    assert ttft[3] > ttft[2] > 1.5 * ttft[1]
    assert any("queue" in n for n in p.notes)


def test_tpot_grows_and_interactivity_falls_with_concurrency(b200_nvfp4: Deployment) -> None:
    p = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=np.arange(1, 257))
    tpot = np.asarray(p.tpot_s)
    assert np.all(np.diff(tpot) > 0)
    assert np.allclose(np.asarray(p.tok_s_per_user), 1.0 / tpot)
    assert np.all(np.diff(np.asarray(p.output_tok_s_per_gpu)) > 0)


def test_offline_benchmarks_do_not_pay_the_streaming_cost(b200_nvfp4: Deployment) -> None:
    online = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=256)
    offline = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=256, online=False)
    assert isinstance(online.tpot_s, float) and isinstance(offline.tpot_s, float)
    assert offline.tpot_s < online.tpot_s


def test_tensor_parallelism_shortens_tpot_but_not_in_proportion() -> None:
    # Sweep rows 70/80/84: B200 NVFP4 vLLM at concurrency 4: TP1 13.07, TP4 7.24, TP8 6.31 ms:
    # the per-layer latency does not shrink with more GPUs.
    tpot = {tp: predict(deploy("b200", "nvfp4", tp=tp), SWEEP_SHAPE, concurrency=4).tpot_s for tp in (1, 4, 8)}
    assert tpot[1] > tpot[4] > tpot[8]
    assert tpot[1] / tpot[8] < 4.0
    assert tpot[8] == pytest.approx(6.309e-3, rel=0.15)


def test_moe_batches_touch_more_experts() -> None:
    d = deploy("h200-sxm", "fp8", tp=8, model="qwen3-235b-a22b")
    terms = deployment_terms(d)
    # Qwen3-235B-A22B: 128 experts, 8 per token. One token reads 8 of them, 64 tokens about
    # 128 x (1 - (1 - 8/128)^64) = 126.8 of them.
    one = float(terms.streamed_weight_bytes(np.array([1.0]))[0])
    many = float(terms.streamed_weight_bytes(np.array([64.0]))[0])
    assert (many - terms.dense_weight_bytes) / terms.expert_bytes == pytest.approx(128 * (1 - (1 - 8 / 128) ** 64))
    assert one == pytest.approx(compute_bounds(d).value("streamed_bytes") / 8, rel=1e-9)
    assert many > 3 * one


def test_scalar_in_floats_out_array_in_arrays_out(b200_nvfp4: Deployment) -> None:
    one = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=8)
    assert isinstance(one.tpot_s, float) and isinstance(one.binding, str)
    curve = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=[4, 8, 16])
    assert isinstance(curve.tpot_s, np.ndarray) and curve.tpot_s.shape == (3,)
    assert isinstance(curve.binding, tuple) and len(curve.binding) == 3
    assert float(curve.tpot_s[1]) == pytest.approx(one.tpot_s)
    record = curve.records()[1]
    assert record["concurrency"] == 8 and record["tpot_ms"] == pytest.approx(one.tpot_s * 1e3, abs=1e-3)
    assert set(record) >= {
        "tpot_ms",
        "ttft_ms",
        "tok_s_per_user",
        "output_tok_s_per_gpu",
        "binding",
        "extrapolated",
        "band",
        "profile",
    }


def test_at_interactivity_is_the_best_point_above_the_target(b200_nvfp4: Deployment) -> None:
    best = at_interactivity(b200_nvfp4, SWEEP_SHAPE, 50.0)
    assert isinstance(best.tok_s_per_user, float) and isinstance(best.concurrency, float)
    assert best.tok_s_per_user >= 50.0
    # one more client would fall below the target
    nxt = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=best.concurrency + 1)
    assert isinstance(nxt.tok_s_per_user, float)
    assert nxt.tok_s_per_user < 50.0


def test_unreachable_interactivity_names_the_ceiling() -> None:
    with pytest.raises(UsageError, match=r"ceiling is \d+\.\d tok/s per user"):
        at_interactivity(deploy("h100-sxm", "fp8", tp=2), SWEEP_SHAPE, 500.0)


def test_one_simulated_curve_answers_every_target_as_at_interactivity_does(b200_nvfp4: Deployment) -> None:
    """The rank's Pareto pass picks several targets from one curve (economics._rank_point): each
    pick is the prediction at_interactivity computes afresh, field for field, and a target above
    the ceiling is refused with the same message."""
    from blackwell_decide.perf.model import interactivity_curve

    catalog = get_catalog()
    curve = interactivity_curve(b200_nvfp4, SWEEP_SHAPE, catalog=catalog)
    for target in (10.0, 25.0, 50.0, 75.0, 83.0):  # the ceiling is 83.4 tok/s per user
        assert curve.at(target) == at_interactivity(b200_nvfp4, SWEEP_SHAPE, target)
    with pytest.raises(UsageError) as fresh:
        at_interactivity(b200_nvfp4, SWEEP_SHAPE, 5000.0)
    with pytest.raises(UsageError) as picked:
        curve.at(5000.0)
    assert str(picked.value) == str(fresh.value)


def test_max_throughput_beats_every_frontier_point(b200_nvfp4: Deployment) -> None:
    best = max_throughput(b200_nvfp4, SWEEP_SHAPE, online=True)
    curve = frontier(b200_nvfp4, SWEEP_SHAPE)
    per_gpu = np.asarray(curve.output_tok_s_per_gpu)
    user = np.asarray(curve.tok_s_per_user)
    assert isinstance(best.output_tok_s_per_gpu, float)
    assert best.output_tok_s_per_gpu >= per_gpu.max() - 1e-6
    # Pareto: along the frontier interactivity falls while throughput rises
    assert np.all(np.diff(per_gpu) >= 0) and np.all(np.diff(user) <= 0)
    assert best.concurrency <= best.kv_capacity


def test_max_throughput_matches_the_trtllm_performance_overview() -> None:
    # TensorRT-LLM perf-overview (commit 00f37686, ~2025-09): B200 TP1 FP4, 1000/1000,
    # 7,007 output tok/s; H200 TP1 FP8 2,909 tok/s (trtllm-bench, every request queued).
    b200 = max_throughput(deploy("b200", "nvfp4"), Workload(1000, 1000), engine="trtllm")
    h200 = max_throughput(deploy("h200-sxm", "fp8"), Workload(1000, 1000), engine="trtllm")
    assert b200.output_tok_s_per_gpu == pytest.approx(7007, rel=0.15)
    assert h200.output_tok_s_per_gpu == pytest.approx(2909, rel=0.15)


def test_exact_profile_is_not_extrapolated_but_other_engines_and_gpus_are(b200_nvfp4: Deployment) -> None:
    exact = predict(b200_nvfp4, SWEEP_SHAPE, engine="trtllm", concurrency=16)
    assert not exact.extrapolated and exact.profile == "trtllm-blackwell"
    sglang = predict(b200_nvfp4, SWEEP_SHAPE, engine="sglang", concurrency=16)
    assert sglang.extrapolated and sglang.profile == "sglang-blackwell"
    assert sglang.band[1] == pytest.approx(2 * predict(b200_nvfp4, SWEEP_SHAPE, concurrency=16).band[1])
    amd = predict(deploy("mi300x", "fp8"), SWEEP_SHAPE, concurrency=16)
    assert amd.extrapolated and any("cdna3" in n for n in amd.notes)
    long_prompts = predict(b200_nvfp4, Workload(8192, 1024), concurrency=16)
    assert long_prompts.extrapolated and any("8192/1024" in n for n in long_prompts.notes)


def test_a_widened_band_never_goes_below_minus_100_percent(b200_nvfp4: Deployment) -> None:
    # trtllm-blackwell's data stop at concurrency 128, so 512 is two octaves out and the band
    # three times as wide on the high side; the low side is the multiplicative mirror
    # 1 / (1 + high) - 1, never a plain multiple (three times -55 % would be a negative TTFT).
    from blackwell_decide.builtin.calibration import builtin_profiles

    profile = next(p for p in builtin_profiles() if p.key == "trtllm-blackwell")
    p = predict(b200_nvfp4, SWEEP_SHAPE, engine="trtllm", concurrency=512)
    assert p.extrapolated and p.range_distance == pytest.approx(2.0)
    for band, own in ((p.ttft_band, profile.error.ttft_band), (p.band, profile.error.band)):
        assert band[1] == pytest.approx(3 * own[1], abs=1e-4)
        assert band[0] == pytest.approx(1 / (1 + band[1]) - 1, abs=1e-4)
        assert -1 < band[0] < own[0]


def test_llama_3_3_counts_as_the_fitted_llama_3_1_architecture(b200_nvfp4: Deployment) -> None:
    # The profiles were fitted on Llama 3.1 70B rows; Llama 3.3 70B has the same architecture.
    p = predict(b200_nvfp4, SWEEP_SHAPE, concurrency=4)
    assert not any("model" in n for n in p.notes)


def test_bad_inputs_raise_usage_errors(b200_nvfp4: Deployment) -> None:
    with pytest.raises(UsageError, match="isl"):
        Workload(-1, 128)
    with pytest.raises(UsageError, match="osl"):
        Workload(128, 0)
    with pytest.raises(UsageError, match="unknown engine 'tgi'"):
        predict(b200_nvfp4, SWEEP_SHAPE, engine="tgi", concurrency=4)
    with pytest.raises(UsageError, match="concurrency"):
        predict(b200_nvfp4, SWEEP_SHAPE, concurrency=0)
    with pytest.raises(UsageError, match="interactivity"):
        at_interactivity(b200_nvfp4, SWEEP_SHAPE, -5.0)
    with pytest.raises(DoesNotFitError):
        predict(deploy("h100-sxm", "bf16", kv=None), SWEEP_SHAPE, concurrency=1)


def test_simulate_is_vectorised_and_consistent(b200_nvfp4: Deployment, catalog: Catalog) -> None:
    terms = deployment_terms(b200_nvfp4)
    profile = catalog.calibration_profiles.get("vllm-blackwell")
    grid = simulate(terms, profile, SWEEP_SHAPE, np.array([1.0, 4.0, 64.0]))
    single = simulate(terms, profile, SWEEP_SHAPE, np.array([64.0]))
    assert float(grid.tpot_s[2]) == pytest.approx(float(single.tpot_s[0]))
    # closed loop: requests/s x (time to first token's prefill part + osl x TPOT) = clients
    assert np.all(grid.requests_per_s > 0)
    assert np.all(grid.tpot_s >= grid.floor_s)


def test_a_profile_borrowed_from_another_engine_keeps_the_measured_bandwidth() -> None:
    # TensorRT-LLM has no AMD measurements: on MI300X it gets trtllm-cdna3, vllm-cdna3's fitted
    # figures with TensorRT-LLM's engine settings, marked as borrowed. vllm-cdna3 streams at the
    # MI300X's measured fraction, BabelStream Triad 4.1 of 5.3 TB/s (BW-004, Azure
    # AI-benchmarking-guide, 2025-02-07), and computes below 1,222.9 of 2,614.9 TFLOPS FP8
    # (GEMM-003, hipBLASLt).
    from blackwell_decide.perf import choose_profile

    d = deploy("mi300x", "fp8")
    choice = choose_profile(deployment_terms(d), SWEEP_SHAPE, "trtllm", deployment=d, catalog=get_catalog())
    assert choice.extrapolated and choice.profile.key == "trtllm-cdna3"
    assert any("its figures are vllm-cdna3's" in r for r in choice.reasons)
    assert choice.profile.eta_bw == pytest.approx(4.1 / 5.3, rel=1e-3)
    assert choice.profile.eta_compute <= 1222.9 / 2614.9 + 1e-9
