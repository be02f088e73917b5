"""Model architectures and their exact parameter counts.

Counts are derived from the architecture (what a Hugging Face ``config.json`` says), never typed
in: ``linear`` is every matmul weight except the embedding table and lm_head (attention, MLP,
experts, routers); ``other`` is norms and biases; ``embedding`` and ``lm_head`` are
``vocab × hidden`` each (``lm_head_stored`` is zero when the two are tied, but a decode step still
reads the matrix for the logits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from blackwell_decide.model.source import Source


@attrs.frozen
class MoEConfig:
    """Mixture-of-experts feed-forward layers."""

    num_experts: int = attrs.field(validator=attrs.validators.gt(0))
    experts_per_token: int = attrs.field(validator=attrs.validators.gt(0))
    expert_intermediate_size: int = attrs.field(validator=attrs.validators.gt(0))
    num_shared_experts: int = 0
    shared_intermediate_size: int | None = None  # per shared expert; default expert size
    dense_layers: int = 0  # leading layers with a dense MLP instead of experts (DeepSeek)
    expert_bias: bool = False  # per-expert MLP biases (gpt-oss)
    router_bias: bool = False

    @experts_per_token.validator
    def _check_k(self, _: attrs.Attribute[int], value: int) -> None:
        if value > self.num_experts:
            raise ValueError(f"experts_per_token ({value}) exceeds num_experts ({self.num_experts})")


@attrs.frozen
class MLAConfig:
    """Multi-head latent attention (DeepSeek-V2/V3): the KV cache holds a compressed latent."""

    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None


@attrs.frozen
class ParamCounts:
    linear: int
    linear_active: int
    embedding: int
    lm_head: int
    lm_head_stored: int
    other: int

    @property
    def total(self) -> int:
        return self.linear + self.embedding + self.lm_head_stored + self.other

    @property
    def active(self) -> int:
        """Parameters touched per token, counted the way model cards do (embeddings included)."""
        return self.linear_active + self.embedding + self.lm_head_stored + self.other

    @property
    def compute_active(self) -> int:
        """Parameters that take part in matmuls per token: 2 FLOPs each (the embedding lookup does none)."""
        return self.linear_active + self.lm_head


def _positive_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not (isinstance(value, int) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen
class ModelArch:
    """A decoder-only transformer, as much of it as bounds and performance need."""

    key: str
    name: str
    hf_id: str
    num_layers: int = attrs.field(validator=_positive_int)
    hidden_size: int = attrs.field(validator=_positive_int)
    num_attention_heads: int = attrs.field(validator=_positive_int)
    num_kv_heads: int = attrs.field(validator=_positive_int)
    head_dim: int = attrs.field(validator=_positive_int)
    intermediate_size: int = attrs.field(validator=_positive_int)
    vocab_size: int = attrs.field(validator=_positive_int)
    tie_word_embeddings: bool = False
    gated_mlp: bool = True  # SwiGLU: gate, up and down projections
    attention_bias: bool = False  # q, k, v biases (Qwen2, gpt-oss)
    o_proj_bias: bool = False
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3)
    attention_sinks: bool = False  # one learned logit per head (gpt-oss)
    sliding_window: int | None = None
    sliding_window_layers: int = attrs.field(default=0)  # how many layers use the sliding window
    moe: MoEConfig | None = None
    mla: MLAConfig | None = None
    max_position_embeddings: int | None = None
    published_total_params: int | None = None
    published_active_params: int | None = None
    sources: Mapping[str, Source] = attrs.field(factory=dict, converter=dict)
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @num_kv_heads.validator
    def _check_kv(self, _: attrs.Attribute[int], value: int) -> None:
        if self.num_attention_heads % value:
            raise ValueError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_kv_heads ({value})"
            )

    @sliding_window_layers.validator
    def _check_sliding(self, _: attrs.Attribute[int], value: int) -> None:
        if value < 0 or value > self.num_layers:
            raise ValueError(f"sliding_window_layers must be within 0..{self.num_layers}, got {value}")
        if value and not self.sliding_window:
            raise ValueError("sliding_window_layers needs a sliding_window size")

    # ------------------------------------------------------------------ parameter counts
    def _attention_linear(self) -> int:
        h, heads, kv, d = self.hidden_size, self.num_attention_heads, self.num_kv_heads, self.head_dim
        if self.mla is None:
            return h * heads * d + 2 * h * kv * d + heads * d * h
        m = self.mla
        qk_dim = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            q = h * m.q_lora_rank + m.q_lora_rank * heads * qk_dim
        else:
            q = h * heads * qk_dim
        kv_down = h * (m.kv_lora_rank + m.qk_rope_head_dim)
        kv_up = m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim)
        out = heads * m.v_head_dim * h
        return q + kv_down + kv_up + out

    def _attention_other(self) -> int:
        heads, kv, d = self.num_attention_heads, self.num_kv_heads, self.head_dim
        n = self.hidden_size  # input norm
        if self.mla is not None:
            if self.mla.q_lora_rank:
                n += self.mla.q_lora_rank
            n += self.mla.kv_lora_rank
        if self.attention_bias:
            n += heads * d + 2 * kv * d
        if self.o_proj_bias:
            n += self.hidden_size
        if self.qk_norm:
            n += 2 * d
        if self.attention_sinks:
            n += heads
        return n

    def _mlp(self, intermediate: int) -> int:
        return (3 if self.gated_mlp else 2) * self.hidden_size * intermediate

    def _mlp_bias(self, intermediate: int) -> int:
        return (2 if self.gated_mlp else 1) * intermediate + self.hidden_size

    @property
    def params(self) -> ParamCounts:
        h = self.hidden_size
        attention = self._attention_linear() * self.num_layers
        other = (self._attention_other() + h) * self.num_layers + h  # + post-attention norms, final norm
        if self.moe is None:
            ffn = ffn_active = self._mlp(self.intermediate_size) * self.num_layers
        else:
            moe = self.moe
            moe_layers = self.num_layers - moe.dense_layers
            expert = self._mlp(moe.expert_intermediate_size)
            shared = moe.num_shared_experts * self._mlp(moe.shared_intermediate_size or moe.expert_intermediate_size)
            router = h * moe.num_experts
            dense = self._mlp(self.intermediate_size) * moe.dense_layers
            ffn = dense + moe_layers * (moe.num_experts * expert + shared + router)
            ffn_active = dense + moe_layers * (moe.experts_per_token * expert + shared + router)
            if moe.expert_bias:
                other += moe_layers * moe.num_experts * self._mlp_bias(moe.expert_intermediate_size)
            if moe.router_bias:
                other += moe_layers * moe.num_experts
        embedding = self.vocab_size * h
        return ParamCounts(
            linear=attention + ffn,
            linear_active=attention + ffn_active,
            embedding=embedding,
            lm_head=embedding,
            lm_head_stored=0 if self.tie_word_embeddings else embedding,
            other=other,
        )

    # ------------------------------------------------------------------ KV cache and attention
    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """Cached elements per token in one layer: K and V heads (GQA) or the MLA latent."""
        if self.mla is not None:
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_elements_per_token(self, seq_len: float | None = None) -> float:
        """Cached elements per token, all layers; sliding-window layers hold at most ``window``
        tokens, so their share is averaged over ``seq_len`` (full share when it is None)."""
        per_layer = self.kv_elements_per_token_per_layer
        full_layers = self.num_layers - self.sliding_window_layers
        if not self.sliding_window_layers or seq_len is None or seq_len <= (self.sliding_window or 0):
            return float(per_layer * self.num_layers)
        window = float(self.sliding_window or 0)
        return per_layer * (full_layers + self.sliding_window_layers * window / seq_len)

    def attention_flops_per_token(self, context: float) -> float:
        """FLOPs of score and value products for one new token attending to ``context`` tokens
        (2 FLOPs per multiply-add; MLA counted in its absorbed form, as engines run decode)."""
        heads = self.num_attention_heads
        if self.mla is not None:
            width = 2 * self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        else:
            width = 2 * self.head_dim
        full_layers = self.num_layers - self.sliding_window_layers
        window = float(self.sliding_window or 0)
        effective = full_layers * context + self.sliding_window_layers * min(context, window)
        return 2.0 * heads * width * effective

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_hf_config(
        cls,
        config: Mapping[str, Any],
        *,
        key: str,
        name: str | None = None,
        hf_id: str | None = None,
        sources: Mapping[str, Source] | None = None,
        published_total_params: int | None = None,
        published_active_params: int | None = None,
    ) -> ModelArch:
        """Build from a Hugging Face ``config.json`` mapping (Llama, Mixtral, Qwen2/3(-MoE),
        DeepSeek-V2/V3, gpt-oss and alike). Unknown keys are ignored; a missing required key
        raises ``KeyError`` naming it."""
        from blackwell_decide.model._hf_config import arch_fields_from_hf_config

        fields = arch_fields_from_hf_config(config)
        return cls(
            key=key,
            name=name or str(config.get("_name_or_path") or key),
            hf_id=hf_id or str(config.get("_name_or_path") or key),
            sources=sources or {},
            published_total_params=published_total_params,
            published_active_params=published_active_params,
            **fields,
        )
