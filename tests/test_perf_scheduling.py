"""The scheduler's first-token delay: TensorRT-LLM's stream_interval and batch waiting as the
InferenceMAX harness set them (SemiAnalysisAI/InferenceX benchmarks/70b_fp8_h200_trt_slurm.sh at
73ef9225: stream_interval 10; for 1k/1k at TP<8 batch_wait_timeout_iters 20 and
batch_wait_max_tokens_ratio 0.9), and the benchmark's wave of clients (10 requests per client)."""

from __future__ import annotations

import numpy as np
import pytest

from blackwell_decide import predict, resolve_deployment
from blackwell_decide.perf import Workload, choose_profile
from blackwell_decide.perf.physics import deployment_terms
from blackwell_decide.perf.scheduling import Scheduling, first_token_delay, scheduling_for, simulate_served
from blackwell_decide.plugins import get_catalog


def test_the_harness_settings_come_from_the_manifest() -> None:
    tp1 = scheduling_for("inferencemax-llama70b-1k1k", "trtllm", 1)
    assert (tp1.stream_interval, tp1.batch_wait_iters, tp1.batch_wait_tokens_ratio) == (10, 20, 0.9)
    assert tp1.wave_share == pytest.approx(0.1)  # --num-prompts 10 x concurrency
    tp8 = scheduling_for("inferencemax-llama70b-1k1k", "trtllm", 8)
    assert (tp8.stream_interval, tp8.batch_wait_iters) == (10, 0)
    vllm = scheduling_for("inferencemax-llama70b-1k1k", "vllm", 1)
    assert vllm.stream_interval == 1 and vllm.wave_share == pytest.approx(0.1)
    assert scheduling_for("nim-llama70b-h100-tp2", "trtllm", 2) == Scheduling()


def test_stream_interval_and_batch_wait_add_steps_to_the_first_token() -> None:
    d = resolve_deployment(model="llama-3.3-70b", gpu="h200-sxm", weights="fp8", kv="fp8", tp=1)
    terms = deployment_terms(d)
    workload = Workload(922, 922)
    profile = choose_profile(terms, workload, "trtllm", catalog=get_catalog()).profile
    conc = np.array([4.0, 128.0])
    plain = simulate_served(terms, profile, workload, conc)
    streamed = simulate_served(terms, profile, workload, conc, scheduling=Scheduling(stream_interval=10))
    assert streamed.ttft_s - plain.ttft_s == pytest.approx(9 * plain.tpot_s)
    # batch waiting ends after 20 iterations or when 0.9 x 2048 tokens (one more prompt) have arrived
    wait = Scheduling(batch_wait_iters=20, batch_wait_tokens_ratio=0.9, batch_wait_budget_tokens=2048)
    delay = first_token_delay(plain, wait, workload, 8192)
    expected = np.minimum(20 * plain.tpot_s, (0.9 * 2048 / 922 - 1) / plain.requests_per_s)
    assert delay == pytest.approx(expected)


def test_a_steadily_loaded_deployment_has_no_benchmark_wave() -> None:
    d = resolve_deployment(model="llama-3.3-70b", gpu="h200-sxm", weights="fp8", kv="fp8", tp=1)
    terms = deployment_terms(d)
    workload = Workload(922, 922)
    profile = choose_profile(terms, workload, "vllm", catalog=get_catalog()).profile
    steady = predict(d, workload, engine="vllm", concurrency=64)
    wave = simulate_served(terms, profile, workload, np.array([64.0]), scheduling=Scheduling(wave_share=0.1))
    assert float(steady.ttft_s) < float(wave.ttft_s[0])


def test_an_mlperf_harness_runs_every_request_in_flight() -> None:
    # MLA-036a (v6.0 AMD 8xMI355X Server): 1,831 requests in flight per GPU by Little's law, a
    # VALID run with mean TTFT 0.62 s. vLLM's default 1,024 batch slots would make the other 807
    # wait a whole ~41 s service time; the manifest says the harness admitted them all.
    from blackwell_decide.perf.scheduling import harness_settings, scheduling_rules

    s = scheduling_for("mlperf-llama2-70b-amd", "vllm", 1)
    assert s.admits_in_flight and "VALID" in s.source
    catalog = get_catalog()
    mi355x = resolve_deployment(model="llama-2-70b", gpu="mi355x", weights="mxfp4", kv="fp8", tp=1)
    terms = deployment_terms(mi355x)
    profile = choose_profile(terms, Workload(222, 283), "vllm", deployment=mi355x, catalog=catalog).profile
    assert profile.engine_settings.max_batch == 1024
    assert harness_settings(profile.engine_settings, s, np.array([329.0, 1831.0])).max_batch == 1831
    # a concurrency within the default cap leaves the settings as they are
    assert harness_settings(profile.engine_settings, s, np.array([329.0])) is profile.engine_settings
    served = simulate_served(terms, profile, Workload(222, 283), np.array([1831.0]), scheduling=s)
    stock = simulate_served(terms, profile, Workload(222, 283), np.array([1831.0]))
    # measured mean TTFT 0.6164 s: within 50 % admitted, over 20 s when made to wait
    assert served.ttft_s[0] == pytest.approx(0.6164, rel=0.5)
    assert stock.ttft_s[0] > 20.0
    # the flag must be a boolean in the manifest
    with pytest.raises(Exception, match="admits_in_flight must be true or false"):
        scheduling_rules([{"engine": "vllm", "admits_in_flight": "yes", "source": "x"}], "test")
