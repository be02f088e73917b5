"""Bounds beyond the article: other models and formats, weight-only FP4 on Hopper, fit errors,
derivation records."""

from __future__ import annotations

import pytest

from blackwell_decide import resolve_deployment
from blackwell_decide.bounds import compute_bounds
from blackwell_decide.errors import DoesNotFitError, UnknownKeyError
from blackwell_decide.units import GB


def test_fp4_on_hopper_is_weight_only() -> None:
    """Hopper has no FP4 tensor cores (NVIDIA NVFP4 blog, research catalog §2.2): NVFP4 weights
    halve the bytes streamed but the matmuls run at BF16, and the output says so."""
    d = resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="nvfp4")
    assert d.weight_only
    b = compute_bounds(d)
    assert b.deployment.compute_format == "bf16"
    assert any("weight-only" in a for a in b.assumptions)
    # 40.61 GB streamed at H100's 3.18 TB/s BabelStream Dot (microbenchmarks.csv BW-002), plus
    # 321 matmuls x 3.384 us (vLLM PR 49363: 2*43008*5376 FLOP at 6.077 TFLOP/s = 76.09 us, less
    # 231.2 MB at 3.18 TB/s) and 6 x 80 other kernels x 1.3 us (Hazy Research, H100, CUDA graphs)
    kernels = 321 * (2 * 43008 * 5376 / 6.077129e12 - 43008 * 5376 / 3.18e12) + 480 * 1.3e-6
    assert b.value("kernel_overhead_s") == pytest.approx(kernels, rel=1e-9)
    assert b.decode_floor_s * 1e3 == pytest.approx(40.61 / 3.18 + kernels * 1e3, rel=0.001)


def test_model_too_large_names_the_bytes_and_smallest_tp() -> None:
    """Llama 3.1 405B at BF16: 2 B/param × 405.85 B params ≈ 811.7 GB; an H100 holds 85.5 GB
    (81,559 MiB), so tp=16 (50.7 GB of weights per GPU) is the smallest power of two that fits."""
    d = resolve_deployment(model="llama-3.1-405b", gpu="h100-sxm", weights="bf16")
    with pytest.raises(DoesNotFitError) as info:
        compute_bounds(d)
    message = str(info.value)
    assert "811.7 GB" in message
    assert "--tp 16" in message


def test_unknown_gpu_names_nearest_and_known_keys() -> None:
    with pytest.raises(UnknownKeyError) as info:
        resolve_deployment(model="llama-3.3-70b", gpu="b2000", weights="nvfp4")
    assert info.value.nearest == "b200"
    assert "h100-sxm" in str(info.value)


def test_every_derivation_records_formula_inputs_and_sources() -> None:
    b = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4"))
    assert b["decode_floor_s"].formula == "decode_floor_s = t_comm + t_kernels + t_stream"
    floor = b["weight_stream_s"]
    assert floor.formula == "weight_stream_s = W_stream/(BW_stream*tp)"
    # no STREAM figure for B200: GB200's measured 7.35 of 8 TB/s (Azure, microbenchmarks.csv
    # BW-005) applied to B200's 7.7 TB/s
    bw = next(i for i in floor.inputs if i.symbol == "BW_stream")
    assert bw.value == pytest.approx(7.7e12 * 7.35 / 8.0)
    assert bw.source is not None and bw.source.url.startswith("http")
    assert bw.source.note.startswith("no bandwidth measurement for NVIDIA B200")
    kernels = b["kernel_overhead_s"]
    assert {i.symbol: i.derived_from for i in kernels.inputs}["t_mm"] == "gemm_fixed_s"
    assert all(i.source is not None for i in kernels.inputs)
    stream = next(i for i in floor.inputs if i.symbol == "W_stream")
    assert stream.derived_from == "streamed_bytes"
    doc = b.to_dict()
    for key in (
        "decode_floor_ms",
        "per_user_ceiling_tok_s",
        "streamed_bytes",
        "resident_bytes",
        "kv_bytes_per_token",
        "kv_budget_bytes",
        "kv_tokens",
        "ridge_flops_per_byte",
        "prefill_ceiling_tok_s",
        "assumptions",
        "derivations",
    ):
        assert key in doc


def test_tensor_parallel_splits_weights_and_adds_kv_room() -> None:
    """TP=2 on H100 FP8: each GPU holds half of 72.66 GB plus the 1 GB reserve; the weight-streaming
    time halves and the floor adds 160 all-reduces of 16 kB (SGLang's one-shot kernel on H100 at
    TP2: 3.9 us at 4 kB, interconnects.toml; 16,384 B x 2 x 1/2 at 60 GB/s adds 0.27 us)."""
    one = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8"))
    two = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8", tp=2))
    assert two.value("weight_stream_s") == pytest.approx(one.value("weight_stream_s") / 2)
    assert one.value("allreduce_s") == 0
    assert two.value("allreduce_s") == pytest.approx(160 * (3.9e-6 + 16384 / 60e9), rel=1e-9)
    assert two.value("kernel_overhead_s") == pytest.approx(one.value("kernel_overhead_s"))
    assert two.decode_floor_s == pytest.approx(
        two.value("weight_stream_s") + two.value("allreduce_s") + two.value("kernel_overhead_s")
    )
    assert two.value("resident_bytes") / GB == pytest.approx(72.656 / 2 + 1, abs=0.001)
    assert two.value("kv_tokens") > 4 * one.value("kv_tokens")


def test_mla_kv_cache_is_the_latent() -> None:
    """DeepSeek-V3 caches (512 + 64) latent elements per layer over 61 layers (config.json:
    kv_lora_rank 512, qk_rope_head_dim 64, num_hidden_layers 61)."""
    d = resolve_deployment(model="deepseek-v3", gpu="b200", weights="nvfp4", kv="fp8", tp=8)
    b = compute_bounds(d)
    assert b.value("kv_bytes_per_token") == (512 + 64) * 61 * 1.0


def test_numeric_formulas_accept_numpy_arrays() -> None:
    import numpy as np

    from blackwell_decide.bounds.formulas import compiled

    floors = compiled("weight_stream_s")(W_stream=np.array([40e9, 70e9]), tp=1, BW_stream=np.array([7.7e12, 3.35e12]))
    assert floors.shape == (2,)
    assert floors[1] == pytest.approx(70e9 / 3.35e12)


def test_gpt_oss_keeps_attention_in_bf16_beside_mxfp4_experts() -> None:
    """gpt-oss-120b is published with MXFP4 routed experts and BF16 attention and dense layers; the
    checkpoint is 60.8 GiB (OpenAI's gpt-oss model card). Asking for its own format, --weights mxfp4,
    gets that mix; quantising everything to MXFP4 is an explicit choice."""
    from blackwell_decide.bounds import weight_bytes_total
    from blackwell_decide.units import GiB

    published = resolve_deployment(model="gpt-oss-120b", gpu="b200", weights="mxfp4")
    assert published.scheme.dense_weights.key == "bf16"
    assert weight_bytes_total(published) / GiB == pytest.approx(60.8, abs=0.05)
    everything = resolve_deployment(model="gpt-oss-120b", gpu="b200", weights="mxfp4", non_expert_weights="mxfp4")
    assert everything.scheme.non_expert_weights is None
    streamed_mixed = compute_bounds(published).value("streamed_bytes")
    streamed_all = compute_bounds(everything).value("streamed_bytes")
    # 0.97 B non-expert linear parameters read per token at 2 B instead of 0.53125 B each
    p = published.model.params
    non_expert = p.linear_active - p.routed_expert_active
    assert streamed_mixed - streamed_all == pytest.approx(non_expert * (2 - 0.53125), rel=1e-9)


def test_non_expert_weights_need_a_mixture_of_experts() -> None:
    from blackwell_decide.errors import UsageError

    with pytest.raises(UsageError, match="no routed experts"):
        resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4", non_expert_weights="bf16")
