"""Number formats and quantisation schemes."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from blackwell_decide.model import validators as v
from blackwell_decide.model.source import Source


@attrs.frozen
class NumberFormat:
    """How one stored element is encoded, including its share of block scales.

    ``block_size`` elements share one scale of ``scale_bits`` (``scale_format`` names it:
    ``e4m3``, ``e8m0``, ``fp16``, ``fp32``); ``zero_point_bits`` per block covers asymmetric
    integer formats (AWQ). ``per_tensor_scale_bits`` is the second-level scale (NVFP4 keeps one
    FP32 per tensor); it is negligible per parameter and reported, not folded into
    :attr:`bytes_per_param`. ``compute_format`` is the tensor-core path that consumes it.
    """

    key: str
    name: str
    element_bits: int = attrs.field(validator=v.whole(1, 64, fix="give the bits per element (4 for FP4)"))
    compute_format: str
    block_size: int | None = attrs.field(default=None)
    scale_bits: int = attrs.field(default=0, validator=v.whole(0, 64))
    scale_format: str = "none"
    zero_point_bits: int = attrs.field(default=0, validator=v.whole(0, 64))
    per_tensor_scale_bits: int = attrs.field(default=0, validator=v.whole(0, 64))
    aliases: tuple[str, ...] = ()
    sources: Mapping[str, Source] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()

    @block_size.validator
    def _check_block(self, _: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**6):
            raise ValueError(f"block_size must be a whole number of elements from 1 to 1000000, got {value!r}")
        if value is None and (self.scale_bits or self.zero_point_bits):
            raise ValueError("a format with block scales or zero points needs a block_size")

    @property
    def bits_per_param(self) -> float:
        """Element bits plus the per-element share of block scales and zero points."""
        if self.block_size is None:
            return float(self.element_bits)
        return self.element_bits + (self.scale_bits + self.zero_point_bits) / self.block_size

    @property
    def bytes_per_param(self) -> float:
        return self.bits_per_param / 8.0

    @property
    def scale_overhead_bytes_per_param(self) -> float:
        """The block-scale share alone (the article's 'block-scale overhead' line)."""
        return self.bytes_per_param - self.element_bits / 8.0


@attrs.frozen
class QuantScheme:
    """Which format each kind of tensor is stored in.

    ``embeddings`` covers the embedding table, the lm_head and the small tensors (norms, biases)
    that stay in high precision in production checkpoints. ``non_expert_weights`` is the format of
    the attention and other linear layers outside the routed experts, where a mixture-of-experts
    checkpoint keeps them wider than the experts (gpt-oss publishes MXFP4 experts beside BF16
    attention); ``None`` means the same as ``weights``.
    """

    weights: NumberFormat
    embeddings: NumberFormat
    kv_cache: NumberFormat
    activations: NumberFormat
    non_expert_weights: NumberFormat | None = None

    @property
    def dense_weights(self) -> NumberFormat:
        """The format of the linear layers outside the routed experts."""
        return self.non_expert_weights or self.weights

    @property
    def label(self) -> str:
        mixed = f" (non-expert {self.non_expert_weights.key})" if self.non_expert_weights else ""
        return f"weights {self.weights.key}{mixed}, kv {self.kv_cache.key}"
