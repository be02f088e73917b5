"""Model architectures and their exact parameter counts.

Counts are derived from the architecture (what a Hugging Face ``config.json`` says), never typed
in: ``linear`` is every matmul weight except the embedding table and lm_head (attention, MLP,
experts, routers); ``other`` is norms and biases; ``embedding`` and ``lm_head`` are
``vocab × hidden`` each (``lm_head_stored`` is zero when the two are tied, but a decode step still
reads the matrix for the logits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from blackwell_decide.errors import UsageError
from blackwell_decide.model import validators as v
from blackwell_decide.model.source import Source

_FIX = "check the model's config.json"
_MAX_TOKENS = int(v.MAX_TOKENS)


@attrs.frozen
class MoEConfig:
    """Mixture-of-experts feed-forward layers."""

    num_experts: int = attrs.field(validator=v.whole(fix=_FIX))
    experts_per_token: int = attrs.field(validator=v.whole(fix=_FIX))
    expert_intermediate_size: int = attrs.field(validator=v.whole(fix=_FIX))
    num_shared_experts: int = attrs.field(default=0, validator=v.whole(0, fix=_FIX))
    shared_intermediate_size: int | None = attrs.field(  # per shared expert; default expert size
        default=None, validator=v.whole(fix=_FIX, optional=True)
    )
    # layers with a dense MLP instead of experts (DeepSeek's first three)
    dense_layers: int = attrs.field(default=0, validator=v.whole(0, fix=_FIX))
    expert_bias: bool = False  # per-expert MLP biases (gpt-oss)
    router_bias: bool = False  # gpt-oss router bias; DeepSeek-V3's per-expert score correction
    shared_expert_gate: bool = False  # Qwen2-MoE: a hidden -> 1 sigmoid gate on the shared expert

    @experts_per_token.validator
    def _check_k(self, _: attrs.Attribute[int], value: int) -> None:
        if value > self.num_experts:
            raise ValueError(f"experts_per_token ({value}) exceeds num_experts ({self.num_experts})")


@attrs.frozen
class MLAConfig:
    """Multi-head latent attention (DeepSeek-V2/V3): the KV cache holds a compressed latent."""

    kv_lora_rank: int = attrs.field(validator=v.whole(fix=_FIX))
    qk_rope_head_dim: int = attrs.field(validator=v.whole(0, fix=_FIX))
    qk_nope_head_dim: int = attrs.field(validator=v.whole(0, fix=_FIX))
    v_head_dim: int = attrs.field(validator=v.whole(fix=_FIX))
    q_lora_rank: int | None = attrs.field(default=None, validator=v.whole(fix=_FIX, optional=True))


@attrs.frozen
class ParamCounts:
    """Parameter counts by role. ``routed_expert`` / ``routed_expert_active`` are the part of
    ``linear`` / ``linear_active`` that sits in routed experts: checkpoints such as gpt-oss store
    exactly that part in another format (MXFP4) than the rest. ``other_active`` leaves out the
    biases of experts a token is not routed to."""

    linear: int
    linear_active: int
    embedding: int
    lm_head: int
    lm_head_stored: int
    other: int
    routed_expert: int = 0
    routed_expert_active: int = 0
    other_active: int = attrs.field(default=attrs.Factory(lambda counts: counts.other, takes_self=True))

    @property
    def total(self) -> int:
        return self.linear + self.embedding + self.lm_head_stored + self.other

    @property
    def non_embedding(self) -> int:
        """Everything but the embedding table and lm_head (Qwen's "non-embedding" count)."""
        return self.linear + self.other

    @property
    def active(self) -> int:
        """Parameters touched per token with the embedding table included (Mistral's 12.9B for
        Mixtral counts it this way)."""
        return self.linear_active + self.embedding + self.lm_head_stored + self.other_active

    @property
    def active_excluding_embedding(self) -> int:
        """Parameters touched per token with the lm_head but not the embedding table, which a
        token only indexes (the convention of the gpt-oss and DeepSeek-V3 model cards)."""
        return self.linear_active + self.lm_head + self.other_active

    @property
    def compute_active(self) -> int:
        """Parameters that take part in matmuls per token: 2 FLOPs each (the embedding lookup does none)."""
        return self.linear_active + self.lm_head


@attrs.frozen
class _LayerCounts:
    linear: int
    linear_active: int
    other: int
    other_active: int
    routed_expert: int = 0
    routed_expert_active: int = 0

    def times(self, n: int) -> _LayerCounts:
        return _LayerCounts(*(n * value for value in attrs.astuple(self)))

    def plus(self, more: _LayerCounts) -> _LayerCounts:
        return _LayerCounts(*(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(more), strict=True)))


def _source_dict(sources: Mapping[str, Source]) -> dict[str, Source]:
    return dict(sources)


@attrs.frozen
class ModelArch:
    """A decoder-only transformer, as much of it as bounds and performance need."""

    key: str
    name: str
    hf_id: str
    num_layers: int = attrs.field(validator=v.whole(1, v.MAX_LAYERS, fix=_FIX))
    hidden_size: int = attrs.field(validator=v.whole(fix=_FIX))
    num_attention_heads: int = attrs.field(validator=v.whole(fix=_FIX))
    num_kv_heads: int = attrs.field(validator=v.whole(fix=_FIX))
    head_dim: int = attrs.field(validator=v.whole(fix=_FIX))
    intermediate_size: int = attrs.field(validator=v.whole(fix=_FIX))
    vocab_size: int = attrs.field(validator=v.whole(fix=_FIX))
    tie_word_embeddings: bool = False
    gated_mlp: bool = True  # SwiGLU: gate, up and down projections
    attention_bias: bool = False  # q, k, v biases (Qwen2, gpt-oss); MLA: the down-projection biases
    o_proj_bias: bool = False
    mlp_bias: bool = False  # biases in the dense MLP projections (Llama's mlp_bias)
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3)
    attention_sinks: bool = False  # one learned logit per head (gpt-oss)
    sliding_window: int | None = attrs.field(default=None, validator=v.whole(high=_MAX_TOKENS, fix=_FIX, optional=True))
    sliding_window_layers: int = attrs.field(default=0)  # how many layers use the sliding window
    moe: MoEConfig | None = attrs.field(default=None)
    mla: MLAConfig | None = None
    # multi-token-prediction modules shipped with the checkpoint, not counted
    mtp_layers: int = attrs.field(default=0, validator=v.whole(0, fix=_FIX))
    max_position_embeddings: int | None = attrs.field(
        default=None, validator=v.whole(high=_MAX_TOKENS, fix=_FIX, optional=True)
    )
    native_weight_format: str | None = None  # format key of the published checkpoint's weights
    native_expert_format: str | None = None  # ... of its routed experts, where it differs (gpt-oss: mxfp4)
    published_total_params: int | None = None
    published_active_params: int | None = None
    published_active_counts_embedding: bool = True  # the publisher's convention for the active count
    sources: Mapping[str, Source] = attrs.field(factory=dict, converter=_source_dict)
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @num_kv_heads.validator
    def _check_kv(self, _: attrs.Attribute[int], value: int) -> None:
        if self.num_attention_heads % value:
            raise ValueError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of num_kv_heads ({value})"
            )

    @moe.validator
    def _check_moe(self, _: attrs.Attribute[MoEConfig | None], value: MoEConfig | None) -> None:
        if value is not None and not 0 <= value.dense_layers < self.num_layers:
            raise ValueError(
                f"moe.dense_layers must be within 0..{self.num_layers - 1} (at least one MoE layer), "
                f"got {value.dense_layers}"
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
        m = self.mla
        if m is not None:
            n += (m.q_lora_rank or 0) + m.kv_lora_rank  # norms on the compressed q and kv
            if self.attention_bias:
                n += (m.q_lora_rank or 0) + m.kv_lora_rank + m.qk_rope_head_dim
        elif self.attention_bias:
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

    def _decoder_layer(self, *, moe_layer: bool) -> _LayerCounts:
        """One decoder layer: attention, then a dense MLP or the experts, and the two norms."""
        h = self.hidden_size
        attention = self._attention_linear()
        other = self._attention_other() + h  # + the post-attention norm
        moe = self.moe
        if moe is None or not moe_layer:
            mlp = self._mlp(self.intermediate_size)
            bias = self._mlp_bias(self.intermediate_size) if self.mlp_bias else 0
            return _LayerCounts(attention + mlp, attention + mlp, other + bias, other + bias)
        expert = self._mlp(moe.expert_intermediate_size)
        shared = moe.num_shared_experts * self._mlp(moe.shared_intermediate_size or moe.expert_intermediate_size)
        router = h * moe.num_experts + (h if moe.shared_expert_gate else 0)
        routed, routed_active = moe.num_experts * expert, moe.experts_per_token * expert
        bias = self._mlp_bias(moe.expert_intermediate_size) if moe.expert_bias else 0
        other += (moe.num_experts if moe.router_bias else 0) + moe.num_experts * bias
        return _LayerCounts(
            linear=attention + shared + router + routed,
            linear_active=attention + shared + router + routed_active,
            other=other,
            other_active=other - (moe.num_experts - moe.experts_per_token) * bias,
            routed_expert=routed,
            routed_expert_active=routed_active,
        )

    @property
    def params(self) -> ParamCounts:
        dense_layers = self.num_layers if self.moe is None else self.moe.dense_layers
        layers = self._decoder_layer(moe_layer=False).times(dense_layers)
        if self.moe is not None:
            layers = layers.plus(self._decoder_layer(moe_layer=True).times(self.num_layers - dense_layers))
        final_norm = self.hidden_size
        embedding = self.vocab_size * self.hidden_size
        return ParamCounts(
            linear=layers.linear,
            linear_active=layers.linear_active,
            embedding=embedding,
            lm_head=embedding,
            lm_head_stored=0 if self.tie_word_embeddings else embedding,
            other=layers.other + final_norm,
            routed_expert=layers.routed_expert,
            routed_expert_active=layers.routed_expert_active,
            other_active=layers.other_active + final_norm,
        )

    @property
    def mtp_params(self) -> int:
        """Parameters of the multi-token-prediction modules the checkpoint ships (DeepSeek-V3),
        which the model's own count leaves out. Each module is one more decoder layer like the
        last one, a 2·hidden → hidden projection and three norms; it shares the embedding table
        and the lm_head with the main model."""
        h = self.hidden_size
        layer = self._decoder_layer(moe_layer=self.moe is not None)
        return self.mtp_layers * (layer.linear + layer.other + 2 * h * h + 3 * h)

    @property
    def active_params_as_published(self) -> int:
        """The active count under the publisher's convention, comparable to
        ``published_active_params`` (with or without the embedding table)."""
        p = self.params
        return p.active if self.published_active_counts_embedding else p.active_excluding_embedding

    # ------------------------------------------------------------------ KV cache and attention
    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """Cached elements per token in one layer: K and V heads (GQA) or the MLA latent."""
        if self.mla is not None:
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_elements_per_token(self, seq_len: float | None = None) -> float:
        """Cached elements per token, all layers. Sliding-window layers hold at most ``window``
        tokens, so over a sequence of ``seq_len`` tokens their per-token share is
        ``window / seq_len``; with ``seq_len`` None every layer counts in full (the upper bound)."""
        if seq_len is not None and seq_len <= 0:
            raise UsageError(f"sequence length must be positive, got {seq_len}")
        per_layer = self.kv_elements_per_token_per_layer
        full_layers = self.num_layers - self.sliding_window_layers
        if not self.sliding_window_layers or seq_len is None or seq_len <= (self.sliding_window or 0):
            return float(per_layer * self.num_layers)
        window = float(self.sliding_window or 0)
        return per_layer * (full_layers + self.sliding_window_layers * window / seq_len)

    def attention_flops_per_token(self, context: float) -> float:
        """FLOPs of score and value products for one new token attending to ``context`` tokens
        (2 FLOPs per multiply-add; MLA counted in its absorbed form, as engines run decode).
        Sliding-window layers attend to at most ``window`` tokens."""
        if context < 0:
            raise UsageError(f"context length must be zero or positive, got {context}")
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
        published_active_counts_embedding: bool = True,
        notes: Sequence[str] = (),
    ) -> ModelArch:
        """Build from a Hugging Face ``config.json`` mapping (Llama, Mistral, Mixtral,
        Qwen2/3(-MoE), DeepSeek-V2/V3, gpt-oss and alike). Unknown keys are ignored; a missing or
        invalid essential field raises :class:`~blackwell_decide.errors.UsageError` naming it."""
        from blackwell_decide.model._hf_config import arch_fields_from_hf_config

        fields = arch_fields_from_hf_config(config)
        fields["notes"] = (*notes, *fields["notes"])
        name_or_path = str(config.get("_name_or_path") or "")
        try:
            return cls(
                key=key,
                name=name or name_or_path or key,
                hf_id=hf_id or name_or_path or key,
                sources=sources or {},
                published_total_params=published_total_params,
                published_active_params=published_active_params,
                published_active_counts_embedding=published_active_counts_embedding,
                **fields,
            )
        except ValueError as exc:
            raise UsageError(f"model config for {key!r} is inconsistent: {exc}") from exc
