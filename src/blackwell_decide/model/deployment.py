"""A deployment: a model served on accelerators with a quantisation scheme, and the conventions
under which its bounds are computed."""

from __future__ import annotations

import enum

import attrs

from blackwell_decide.model import validators as v
from blackwell_decide.model.arch import ModelArch
from blackwell_decide.model.engine import Engine
from blackwell_decide.model.formats import QuantScheme
from blackwell_decide.model.hardware import Accelerator
from blackwell_decide.units import GB


class CapacityBasis(enum.Enum):
    DEVICE = "device"  # the bytes the device reports (nvidia-smi / rocm-smi total)
    LABEL = "label"  # the marketing label read as decimal GB, as many write-ups subtract it


class KvRoomBasis(enum.Enum):
    ENGINE = "engine"  # what the serving engine's memory settings leave for the KV cache
    PHYSICAL = "physical"  # capacity minus resident bytes and headroom: the physical upper bound


@attrs.frozen
class Conventions:
    """Choices that change the numbers. The defaults are the physics; the article's choices are
    available by name (:meth:`article`) so a reproduction says what it assumed.

    - ``stream_embeddings``: count the embedding table as read every decode step and as taking
      part in per-token FLOPs (the article does; a decode step only looks up one row of it).
    - ``capacity_basis``: device bytes, or the label in decimal GB.
    - ``runtime_reserve_bytes``: memory held for activations, CUDA graphs and the runtime.
    - ``figures``: an alternative-figure tag to apply to every accelerator (``article``,
      ``nominal``, ``driver``); ``None`` keeps the catalog defaults.
    - ``kv_headroom_bytes``: memory per GPU held back from the KV cache beyond the runtime
      reserve (an engine's utilisation headroom; the article's second 1 GB subtraction).
    - ``decode_intensity``: FLOP/byte assumed for batch-1 decode when reporting the fraction of
      peak; ``None`` computes it (2 FLOPs per parameter over the streamed bytes).
    - ``prefill_by_format``: the prefill ceiling prices each matmul at its format's peak, adds
      attention over the causal prompt and counts the lm_head once per prompt; ``False`` counts
      every multiplied parameter at the compute format's peak for every token (the article).
    - ``kv_room``: which figure is the KV room (``kv_budget_bytes``): the serving engine's
      (default) or the physical upper bound (capacity minus resident bytes, as the article counts).
    - ``decode_overheads``: the decode floor streams the weights at the measured (STREAM)
      bandwidth and adds each kernel's measured fixed time (bounds/overheads.py); ``False``
      keeps the spec bandwidth and no kernel costs (the article's W / BW).
    """

    stream_embeddings: bool = False
    capacity_basis: CapacityBasis = attrs.field(default=CapacityBasis.DEVICE, converter=CapacityBasis)
    runtime_reserve_bytes: float = attrs.field(default=1.0 * GB)
    figures: str | None = None
    decode_intensity: float | None = attrs.field(
        default=None, validator=v.in_range(low=1e-6, high=1e9, unit="FLOP/byte", optional=True)
    )
    kv_headroom_bytes: float = attrs.field(default=0.0)
    kv_room: KvRoomBasis = attrs.field(default=KvRoomBasis.ENGINE, converter=KvRoomBasis)
    prefill_by_format: bool = True
    decode_overheads: bool = True

    @runtime_reserve_bytes.validator
    @kv_headroom_bytes.validator
    def _check_reserve(self, attribute: attrs.Attribute[float], value: float) -> None:
        v.check_number(f"Conventions {attribute.name.replace('_', ' ')}", value, high=v.MAX_BYTES, unit="bytes")

    @classmethod
    def article(cls) -> Conventions:
        """The source article's conventions: embeddings streamed, label capacities, its quoted
        accelerator figures, and decode intensity taken as 1 FLOP/byte."""
        return cls(
            stream_embeddings=True,
            capacity_basis=CapacityBasis.LABEL,
            figures="article",
            decode_intensity=1.0,
            kv_room=KvRoomBasis.PHYSICAL,
            prefill_by_format=False,
            decode_overheads=False,
        )

    def describe(self) -> tuple[str, ...]:
        lines = [
            "embedding table streamed every decode step and counted in FLOPs"
            if self.stream_embeddings
            else "only the lm_head streams each step; the embedding table is a row lookup",
            "capacity = marketing label in decimal GB"
            if self.capacity_basis is CapacityBasis.LABEL
            else "capacity = device-reported bytes",
            f"runtime reserve {self.runtime_reserve_bytes / GB:g} GB per GPU",
        ]
        if self.figures:
            lines.append(f"accelerator figures tagged {self.figures!r} replace the catalog defaults")
        if self.kv_headroom_bytes:
            lines.append(f"a further {self.kv_headroom_bytes / GB:g} GB per GPU held back from the KV cache")
        if self.decode_intensity is not None:
            lines.append(f"batch-1 decode intensity assumed {self.decode_intensity:g} FLOP/byte")
        if not self.prefill_by_format:
            lines.append("prefill ceiling: every multiplied parameter at one peak, for every token (no attention)")
        if not self.decode_overheads:
            lines.append("decode floor: weights at the spec bandwidth, no kernel fixed times (W / BW)")
        if self.kv_room is KvRoomBasis.PHYSICAL:
            lines.append("KV room = capacity minus resident bytes (the physical upper bound, not an engine's setting)")
        return tuple(lines)


@attrs.frozen
class Deployment:
    """A model on ``tp`` accelerators (tensor parallel) with a quantisation scheme, served by
    ``engine`` (whose memory settings size the KV cache; ``memory_fraction`` overrides the
    engine's shipped default: vLLM ``--gpu-memory-utilization``, TensorRT-LLM
    ``kv_cache_free_gpu_mem_fraction``, SGLang ``--mem-fraction-static``).

    ``engine_spec`` is ``engine`` as a catalog's engine registry holds it (a plugin's engine
    included), whose settings the bounds size the KV room with; without one, ``engine`` must be
    a built-in engine (its settings are read from the shipped ``engines.json``)."""

    model: ModelArch
    accelerator: Accelerator
    scheme: QuantScheme
    tp: int = attrs.field(
        default=1, validator=v.whole(1, v.MAX_GPUS, fix="give the tensor-parallel size as a whole number of GPUs")
    )
    engine: str = "vllm"
    memory_fraction: float | None = attrs.field(default=None)
    # Not part of the value (eq) or the repr: the engine key is; the spec is where its settings
    # came from. Checked against ``engine`` so an evolve() to another engine cannot keep stale settings.
    engine_spec: Engine | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    @engine_spec.validator
    def _check_spec(self, attribute: attrs.Attribute[Engine | None], value: Engine | None) -> None:
        if value is not None and value.key != self.engine:
            raise ValueError(
                f"engine_spec is engine {value.key!r} but the deployment is served by {self.engine!r}; "
                "pass the registry entry of the deployment's engine"
            )

    @memory_fraction.validator
    def _check_fraction(self, attribute: attrs.Attribute[float | None], value: float | None) -> None:
        if value is not None and not 0 < value <= 1:
            raise ValueError(f"memory_fraction must be in (0, 1], got {value}")

    @property
    def label(self) -> str:
        tp = f" ×{self.tp}" if self.tp > 1 else ""
        return f"{self.model.name} on {self.accelerator.name}{tp} ({self.scheme.label})"

    @property
    def weight_only(self) -> bool:
        """True when the accelerator has no tensor (matrix) cores for the weight format, so weights are
        dequantised and the matmuls run at a higher precision (FP4 on Hopper, for instance)."""
        return not self.accelerator.runs_natively(self.scheme.weights.key)

    @property
    def compute_format(self) -> str:
        """The tensor-core format the matmuls actually run in: the weights' own format where the
        accelerator runs it natively, else the activations' format (weight-only execution), else
        the widest native fallback."""
        acc = self.accelerator
        candidates = [self.scheme.weights.compute_format] if not self.weight_only else []
        candidates += [self.scheme.activations.compute_format, "fp8", "bf16", "fp16"]
        for fmt in candidates:
            if fmt in acc.dense_flops and (fmt == self.scheme.weights.compute_format or acc.runs_natively(fmt)):
                return fmt
        return next(iter(acc.dense_flops))
