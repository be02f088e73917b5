"""A model's per-token figures over arrays of contexts and prompt lengths: the array forms of
:meth:`~blackwell_decide.model.ModelArch.kv_elements_per_token`,
:meth:`~blackwell_decide.model.ModelArch.attention_flops_per_token` and
:func:`blackwell_decide.bounds.prefill.causal_attention_flops_per_token`, so that
:func:`blackwell_decide.perf.physics.shape_step_inputs` prepares any number of workload shapes in
one call. Each keeps its scalar form's order of operations (tests/test_perf_vectorised.py holds
them equal to the last bit on dense, sliding-window and MLA models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from blackwell_decide.model import ModelArch

FloatArray = NDArray[np.float64]


def kv_elements_per_token(model: ModelArch, seq_len: FloatArray) -> FloatArray:
    """Cached elements per token, all layers, over a sequence of ``seq_len`` tokens (sliding-window
    layers hold at most their window)."""
    per_layer = model.kv_elements_per_token_per_layer
    every_layer = float(per_layer * model.num_layers)
    if not model.sliding_window_layers:
        return np.full(np.shape(seq_len), every_layer)
    full_layers = model.num_layers - model.sliding_window_layers
    window = float(model.sliding_window or 0)
    windowed = per_layer * (full_layers + model.sliding_window_layers * window / seq_len)
    return np.asarray(np.where(seq_len <= (model.sliding_window or 0), every_layer, windowed), dtype=np.float64)


def attention_flops_per_token(model: ModelArch, context: FloatArray) -> FloatArray:
    """Score and value FLOPs for one new token attending to ``context`` tokens."""
    heads = model.num_attention_heads
    width = 2 * model.mla.kv_lora_rank + model.mla.qk_rope_head_dim if model.mla is not None else 2 * model.head_dim
    full_layers = model.num_layers - model.sliding_window_layers
    window = float(model.sliding_window or 0)
    effective = full_layers * context + model.sliding_window_layers * np.minimum(context, window)
    return np.asarray(2.0 * heads * width * effective, dtype=np.float64)


def causal_attention_flops_per_token(model: ModelArch, prompt_tokens: FloatArray) -> FloatArray:
    """Score and value FLOPs per prompt token, averaged over causal prompts of ``prompt_tokens``."""
    length = np.asarray(prompt_tokens, dtype=np.float64)
    window = float(model.sliding_window or 0)
    windowed = model.sliding_window_layers
    full = model.num_layers - windowed
    per_layer_token = model.attention_flops_per_token(1.0) / max(full + (windowed if window >= 1 else 0), 1)
    beyond = (window * window / 2.0 + window * (length - window)) / length
    mean_windowed = np.where(length <= window, length / 2.0, beyond)
    return np.asarray(per_layer_token * (full * length / 2.0 + windowed * mean_windowed), dtype=np.float64)
