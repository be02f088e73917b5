"""One KV room (issue 7, item 5): the KV room of a deployment is the figure its engine's memory
settings leave, computed once, and bounds, compare, fleet's KV check, the feasibility check and
predict read that one figure, for every built-in GPU × weight format that fits, at TP 1, 2, 4
and 8. The physical upper bound (device bytes less weights and the 1 GB reserve) stays beside it.

Engine defaults (builtin/data/calibration/engines.json): vLLM --gpu-memory-utilization 0.9 of
total memory (https://docs.vllm.ai/en/v0.8.1/serving/engine_args.html); TensorRT-LLM
free_gpu_memory_fraction 0.9 of the memory free after the weights
(https://nvidia.github.io/TensorRT-LLM/llm-api/reference/KvCacheConfig.html); SGLang
--mem-fraction-static 0.88 at TP1 to 0.81 at TP8 (sglang server_args.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import attrs
import pytest

from blackwell_decide import predict, resolve_deployment
from blackwell_decide.bounds import compute_bounds
from blackwell_decide.bounds.kv_room import engine_memory
from blackwell_decide.cli import main
from blackwell_decide.errors import BlackwellDecideError, DoesNotFitError
from blackwell_decide.model import Conventions, Deployment
from blackwell_decide.perf import Workload, registered_profiles
from blackwell_decide.perf.feasibility import RequestDoesNotFitError
from blackwell_decide.perf.physics import deployment_terms, kv_budget_bytes
from blackwell_decide.perf.profile import serving_profile
from blackwell_decide.plugins import get_catalog
from blackwell_decide.units import GB

MODEL = "llama-3.3-70b"
TPS = (1, 2, 4, 8)
WORKLOAD = Workload(1024, 1024)


def _fitting(gpu: str) -> list[Deployment]:
    """Every weight format of the catalog that resolves on ``gpu`` and leaves a KV room at a TP."""
    out = []
    for fmt in sorted(get_catalog().formats.keys()):
        for tp in TPS:
            try:
                d = resolve_deployment(model=MODEL, gpu=gpu, weights=fmt, tp=tp)
                compute_bounds(d)
            except BlackwellDecideError:
                continue
            out.append(d)
    return out


GPUS = sorted(get_catalog().accelerators.by_plugin()["blackwell_decide.builtin.accelerators"])


def _profile_settings(d: Deployment, engine: str = "vllm") -> float:
    """The KV room the feasibility check compares a request with (its serving settings)."""
    terms = deployment_terms(d)
    profile = next(p for p in registered_profiles(get_catalog()) if p.engine == engine)
    settings = serving_profile(profile, engine, d.memory_fraction, d.tp, get_catalog()).engine_settings
    return kv_budget_bytes(terms, settings)


def _compare_room(d: Deployment, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[float, float]:
    spec = f"{d.accelerator.key}:{d.scheme.weights.key}:{d.scheme.kv_cache.key}:{d.tp}"
    assert main(["compare", "--model", MODEL, "--baseline", spec, "--candidate", spec, "--json", *extra]) == 0
    doc = json.loads(capsys.readouterr().out)
    return doc["candidate"]["kv_budget_bytes"], doc["candidate"]["kv_tokens"]


def _price_file(tmp_path: Path, gpu: str) -> str:
    """A price file for ``gpu`` (the KV check does not depend on the price; not every built-in
    GPU has a shipped price)."""
    path = tmp_path / f"{gpu}.toml"
    path.write_text(
        f'provider = "test"\nas_of = 2026-12-01\nsource = "test input"\n\n'
        f'[[quote]]\ngpu = "{gpu}"\ntier = "on-demand"\nusd_per_gpu_hour = 2.0\n',
        encoding="utf-8",
    )
    return str(path)


def _fleet_tokens_per_gpu(d: Deployment, *extra: str, capsys: pytest.CaptureFixture[str], prices: str) -> float:
    args = [
        *("fleet", "--requests-per-s", "1", "--isl", "1024", "--osl", "1024", "--interactivity", "20"),
        *("--model", MODEL, "--gpu", d.accelerator.key, "--weights", d.scheme.weights.key),
        *("--kv", d.scheme.kv_cache.key, "--tp", str(d.tp), "--throughput", "1000", "--json", *extra),
        *("--prices", prices),
    ]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    check = doc["baseline"]["kv_check"]
    return float(check["kv_tokens_available"]) / float(doc["baseline"]["gpus"])


@pytest.mark.parametrize("gpu", GPUS)
def test_every_layer_reads_one_kv_room(gpu: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    deployments = _fitting(gpu)
    prices = _price_file(tmp_path, gpu)
    if gpu in ("h100-sxm", "b200", "h200-sxm", "mi300x"):
        # the GPUs the article and the shipped data use fit the 70B model at some TP in several formats
        assert len(deployments) >= 6
    for d in deployments:
        b = compute_bounds(d)
        room, tokens = b.kv_room_bytes, b.kv_tokens
        assert 0 < room < b.kv_room_physical_bytes, d.label
        assert b.kv_tokens_physical > tokens
        # compare reports the same room and tokens
        assert _compare_room(d, capsys=capsys) == pytest.approx((room, tokens), rel=1e-12)
        # fleet's KV check counts the same tokens per GPU
        assert _fleet_tokens_per_gpu(d, capsys=capsys, prices=prices) == pytest.approx(tokens / d.tp, rel=1e-12)
        # the feasibility check compares a request with the same room
        assert _profile_settings(d) == pytest.approx(room, rel=1e-12)
        # predict holds whole requests of prompt + half the output (vLLM allocates as it generates)
        per_request = WORKLOAD.isl + WORKLOAD.osl / 2
        if tokens < WORKLOAD.isl + WORKLOAD.osl:
            with pytest.raises(RequestDoesNotFitError):
                predict(d, WORKLOAD, concurrency=1)
            continue
        p = predict(d, WORKLOAD, concurrency=1)
        assert p.kv_capacity == min(math.floor(tokens / per_request), 1024), d.label


def test_h100_tp1_fp8_llama_room_is_vllms() -> None:
    """The issue's example: H100 SXM (81,559 MiB = 85.52 GB device) at TP1 with 72.66 GB of FP8
    Llama-3.3-70B weights. vLLM at 0.9: 0.9 × 85.52 − 72.66 − 3 (runtime) = 1.31 GB = 8,010 FP8
    tokens of 163,840 B; the physical bound 85.52 − 72.66 − 1 = 11.86 GB = 72,415 tokens."""
    d = resolve_deployment(model=MODEL, gpu="h100-sxm", weights="fp8")
    b = compute_bounds(d)
    assert b.kv_room_bytes / GB == pytest.approx(1.312, abs=0.001)
    assert b.kv_tokens == pytest.approx(8010, abs=1)
    assert b.kv_room_physical_bytes / GB == pytest.approx(11.864, abs=0.001)
    assert b.kv_tokens_physical == pytest.approx(72415, abs=1)
    # the 14k-token request predict refused is refused by the bounds' room too
    assert b.kv_tokens < 14_000
    with pytest.raises(RequestDoesNotFitError, match="--tp 2"):
        predict(d, Workload(13_000, 1_000), concurrency=1)


@pytest.mark.parametrize(
    ("engine", "fraction", "expected_gb"),
    [
        # TensorRT-LLM: 0.9 × (85.52 − 72.66 − 3) = 8.88 GB
        ("trtllm", None, 8.878),
        # SGLang at TP1: 0.88 × 85.52 − 72.66 (its fraction covers weights and pool) = 2.60 GB
        ("sglang", None, 2.602),
        # vLLM at --gpu-memory-utilization 0.95: 0.95 × 85.52 − 72.66 − 3 = 5.59 GB
        ("vllm", 0.95, 5.588),
    ],
)
def test_engine_and_fraction_set_the_room_everywhere(
    engine: str, fraction: float | None, expected_gb: float, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = attrs.evolve(
        resolve_deployment(model=MODEL, gpu="h100-sxm", weights="fp8"), engine=engine, memory_fraction=fraction
    )
    b = compute_bounds(d)
    assert b.kv_room_bytes / GB == pytest.approx(expected_gb, abs=0.001)
    flags = ["--engine", engine] + (["--memory-fraction", str(fraction)] if fraction else [])
    assert _compare_room(d, *flags, capsys=capsys)[0] == pytest.approx(b.kv_room_bytes, rel=1e-12)
    assert _fleet_tokens_per_gpu(d, *flags, capsys=capsys, prices=_price_file(tmp_path, "h100-sxm")) == pytest.approx(
        b.kv_tokens, rel=1e-12
    )
    assert _profile_settings(d, engine) == pytest.approx(b.kv_room_bytes, rel=1e-12)
    p = predict(d, WORKLOAD, engine=engine, concurrency=1)
    reserved = WORKLOAD.isl + (WORKLOAD.osl if engine == "trtllm" else WORKLOAD.osl / 2)
    assert p.kv_capacity == math.floor(b.kv_tokens / reserved)


def test_sglang_fraction_falls_with_tp() -> None:
    """SGLang's shipped --mem-fraction-static: 0.88, 0.87, 0.85, 0.81 at TP 1, 2, 4, 8."""
    assert [engine_memory("sglang", tp=tp).memory_fraction for tp in TPS] == [0.88, 0.87, 0.85, 0.81]
    assert engine_memory("sglang", 0.7, tp=8).memory_fraction == 0.7
    # The built-in plugin registers the same steps: the engine registry's entry sizes it alike.
    registered = get_catalog().engines.get("sglang")
    assert registered.settings.memory_fraction_by_tp == ((1, 0.88), (2, 0.87), (4, 0.85), (8, 0.81))
    assert [engine_memory(registered, tp=tp).memory_fraction for tp in TPS] == [0.88, 0.87, 0.85, 0.81]


def test_article_conventions_keep_the_physical_reading() -> None:
    """The article counts device capacity less weights less 1 GB: the article conventions' room
    is the physical one (tests/test_bounds_article.py checks its figures)."""
    d = resolve_deployment(model=MODEL, gpu="h200-sxm", weights="fp8")
    b = compute_bounds(d, Conventions.article())
    assert b.kv_room_bytes == b.kv_room_physical_bytes
    assert b["kv_budget_bytes"].formula == "kv_room_physical = C_hbm - H_headroom - M_resident"


def test_a_room_the_engine_does_not_leave_is_an_error_with_the_fix() -> None:
    """H200 (143,771 MiB = 150.75 GB) with 141.1 GB of BF16 Llama-3.3-70B at TP1: physically
    8.6 GB remain, but vLLM at 0.9 leaves 0.9 × 150.75 − 141.1 − 3 < 0."""
    d = resolve_deployment(model=MODEL, gpu="h200-sxm", weights="bf16")
    with pytest.raises(DoesNotFitError, match=r"--tp 2.*--memory-fraction"):
        compute_bounds(d)
    physical = attrs.evolve(Conventions(), kv_room="physical")
    assert compute_bounds(d, physical).kv_room_bytes / GB == pytest.approx(8.6, abs=0.1)


def test_bad_engine_and_fraction_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["bounds", "--model", MODEL, "--gpu", "h100-sxm", "--weights", "fp8"]
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--memory-fraction", "1.5"])
    assert exit_info.value.code == 2
    assert "--memory-fraction" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--engine", "tgi"])
    assert "--engine" in capsys.readouterr().err
