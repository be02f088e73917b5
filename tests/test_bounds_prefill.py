"""Prefill FLOPs by format (issue 8, item 2): every matmul at the peak of the format it runs in
(the wider of weights and activations: FP4 only where both are FP4), attention over the causal
prompt, the lm_head once per prompt; the same work in the bounds and in the performance model.

Figures: B200 dense peaks 9 PF FP4, 4.5 PF FP8, 2.25 PF BF16; H100 SXM 1,979 TF FP8, 989 TF BF16
(catalog, NVIDIA datasheets). gpt-oss-120b: 3.583 B active routed-expert parameters in MXFP4,
0.969 B other linear parameters and a 0.579 B lm_head in BF16 (its config.json and model card);
Llama-3.3-70B: 68.45 B linear parameters, 1.051 B lm_head, 80 layers of 64 query heads of 128.
"""

from __future__ import annotations

import pytest

from blackwell_decide import resolve_deployment
from blackwell_decide.bounds import compute_bounds
from blackwell_decide.bounds.prefill import causal_attention_flops_per_token, matmul_format
from blackwell_decide.model import Conventions
from blackwell_decide.perf import Workload, registered_profiles
from blackwell_decide.perf.physics import deployment_terms, prefill_time_per_token
from blackwell_decide.plugins import get_catalog


def test_gpt_oss_prefill_prices_its_bf16_layers_at_bf16() -> None:
    """Before: every parameter at B200's 9 PF FP4 gave 0.75 x 9e15 / (2 x 5.131e9) = 657,754 tok/s.
    Its attention projections, dense layers and lm_head are BF16: at 8k-token prompts the time per
    token is 2 x 3.583e9 / 9e15 (experts) + 2 x 0.969e9 / 2.25e15 (BF16 layers) + 1.246e9 / 4.5e15
    (attention at the FP8 KV format, 4k causal average) + 2 x 0.579e9 / 2.25e15 / 8192 (lm_head
    once), 1.935 us: 387,752 tok/s at 75 %. With every token paying the lm_head and no attention
    (the issue's estimate) it would be ~345,000."""
    d = resolve_deployment(model="gpt-oss-120b", gpu="b200", weights="mxfp4")
    b = compute_bounds(d, prompt_tokens=8192)
    inputs = {i.symbol: i.value for i in b["prefill_s_per_token"].inputs}
    assert inputs["F_expert"] == 9e15 and inputs["F_dense"] == 2.25e15 and inputs["F_lm_head"] == 2.25e15
    assert inputs["A_expert"] == pytest.approx(2 * 3.5832e9, rel=1e-4)
    assert inputs["A_dense"] == pytest.approx(2 * 0.96879e9, rel=1e-4)
    assert b.value("prefill_ceiling_tok_s") == pytest.approx(387_752, rel=1e-4)
    article = compute_bounds(d, Conventions(prefill_by_format=False))
    assert article.value("prefill_ceiling_tok_s") == pytest.approx(657_754, rel=1e-4)
    bf16_kv = compute_bounds(resolve_deployment(model="gpt-oss-120b", gpu="b200", weights="mxfp4", kv="bf16"))
    assert {i.symbol: i.value for i in bf16_kv["prefill_s_per_token"].inputs}["F_attn"] == 2.25e15


def test_llama_70b_prefill_at_32k_counts_causal_attention() -> None:
    """Attention per prompt token averages half the prompt: 2 x 64 heads x 2 x 128 x 80 layers x
    16,384 = 42.9 GFLOP at 32k (31 % of the 137 GFLOP of matmuls), 10.7 GFLOP at 8k (7.8 %).
    B200 NVFP4 (FP8 attention) against H100 FP8: 4.24x at 8k, 3.67x at 32k (not 4.5x)."""
    assert causal_attention_flops_per_token(
        resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4").model, 32768
    ) == pytest.approx(2 * 64 * 2 * 128 * 80 * 16384)
    ratio = {}
    for prompt in (8192, 32768):
        b = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4"), prompt_tokens=prompt)
        h = compute_bounds(
            resolve_deployment(model="llama-3.3-70b", gpu="h100-sxm", weights="fp8"), prompt_tokens=prompt
        )
        ratio[prompt] = b.value("prefill_ceiling_tok_s") / h.value("prefill_ceiling_tok_s")
    assert ratio[8192] == pytest.approx(4.24, abs=0.01)
    assert ratio[32768] == pytest.approx(3.67, abs=0.01)
    b32 = compute_bounds(resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4"), prompt_tokens=32768)
    assert b32.value("prefill_ceiling_tok_s") == pytest.approx(30_296, rel=1e-3)


def test_fp4_only_where_both_operands_are_fp4() -> None:
    catalog = get_catalog()
    b200, h100 = catalog.accelerators.get("b200"), catalog.accelerators.get("h100-sxm")
    f = catalog.formats
    assert matmul_format(b200, f.get("nvfp4"), f.get("nvfp4")) == "fp4"
    assert matmul_format(b200, f.get("nvfp4"), f.get("fp8")) == "fp8"
    assert matmul_format(b200, f.get("bf16"), f.get("mxfp4")) == "bf16"
    assert matmul_format(h100, f.get("nvfp4"), f.get("nvfp4")) == "bf16"  # no FP4 cores: dequantised
    assert matmul_format(h100, f.get("fp8"), f.get("fp8")) == "fp8"


def test_the_perf_model_prefills_the_same_work_as_the_bounds() -> None:
    """At 100 % efficiency and TP1 the model's prefill time per token is the bounds' at the same
    prompt length (no all-reduces at TP1)."""
    d = resolve_deployment(model="gpt-oss-120b", gpu="b200", weights="mxfp4")
    profile = next(p for p in registered_profiles(get_catalog()) if p.key == "vllm-blackwell")
    import attrs

    perfect = attrs.evolve(profile, eta_prefill=1.0)
    for isl in (1024, 8192, 32768):
        bound = compute_bounds(d, prompt_tokens=isl).value("prefill_s_per_token")
        model = prefill_time_per_token(deployment_terms(d), perfect, Workload(isl, 128))
        assert model == pytest.approx(bound, rel=1e-9)
