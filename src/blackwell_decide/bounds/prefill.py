"""What a prompt token costs in prefill, by the format each matmul runs in.

A prompt's tokens go through every linear layer at once, so prefill is compute-bound: the time
per token is the FLOPs of each kind of matmul over the peak of the tensor-core path it runs on.
A matmul runs in the wider of its two operands (weights and activations: FP4 only where both are
FP4), so a checkpoint that keeps attention and the dense layers in BF16 beside FP4 experts
(gpt-oss) pays BF16 rates for them. Attention's score and value products cover the causal
context (token i attends to i earlier tokens, a window at most on sliding-window layers). The
lm_head runs once per prompt, for the last token's logits. The bounds and the performance model
both take their prefill time from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator, Deployment, ModelArch, NumberFormat


def matmul_format(accelerator: Accelerator, weights: NumberFormat, activations: NumberFormat) -> str:
    """The tensor-core format (a key of ``accelerator.dense_flops``) a matmul of ``weights`` by
    ``activations`` runs in: the wider operand's, where the accelerator has cores for it; else
    the other's; else 16 bits (a format it has no cores for is dequantised)."""
    wider, narrower = (
        (weights, activations) if weights.element_bits >= activations.element_bits else (activations, weights)
    )
    for fmt in (wider, narrower):
        if accelerator.runs_natively(fmt.key) and fmt.compute_format in accelerator.dense_flops:
            return fmt.compute_format
    for key in ("bf16", "fp16"):
        if key in accelerator.dense_flops:
            return key
    return next(iter(accelerator.dense_flops))


def attention_format(deployment: Deployment) -> str:
    """Attention runs in the KV-cache format where the tensor cores take it, else in 16 bits."""
    acc = deployment.accelerator
    kv = deployment.scheme.kv_cache
    for key in ((kv.compute_format if acc.runs_natively(kv.key) else None), "bf16", "fp16"):
        if key is not None and key in acc.dense_flops:
            return key
    return deployment.compute_format


def causal_attention_flops_per_token(model: ModelArch, prompt_tokens: float) -> float:
    """Score and value FLOPs per prompt token, averaged over a causal prompt of
    ``prompt_tokens``: token i attends to i tokens (at most the window on sliding layers)."""
    length = float(prompt_tokens)
    window = float(model.sliding_window or 0)
    windowed = model.sliding_window_layers
    full = model.num_layers - windowed
    per_layer_token = model.attention_flops_per_token(1.0) / max(full + (windowed if window >= 1 else 0), 1)
    mean_windowed = length / 2.0 if length <= window else (window * window / 2.0 + window * (length - window)) / length
    return per_layer_token * (full * length / 2.0 + windowed * mean_windowed)


@attrs.frozen
class PrefillWork:
    """FLOPs per prompt token of one deployment (whole model, before tensor parallelism), each
    with the tensor-core format it runs in."""

    expert_flops: float  # routed experts (0 for a dense model)
    expert_format: str
    dense_flops: float  # every other linear layer but the lm_head
    dense_format: str
    lm_head_flops: float  # once per prompt
    lm_head_format: str
    attention_format: str


def prefill_work(deployment: Deployment) -> PrefillWork:
    p = deployment.model.params
    scheme, acc = deployment.scheme, deployment.accelerator
    return PrefillWork(
        expert_flops=2.0 * p.routed_expert_active,
        expert_format=matmul_format(acc, scheme.weights, scheme.activations),
        dense_flops=2.0 * (p.linear_active - p.routed_expert_active),
        dense_format=matmul_format(acc, scheme.dense_weights, scheme.activations),
        lm_head_flops=2.0 * p.lm_head,
        lm_head_format=matmul_format(acc, scheme.embeddings, scheme.activations),
        attention_format=attention_format(deployment),
    )
