"""Turn the names a person types (model, GPU, formats) into a typed :class:`Deployment`."""

from __future__ import annotations

from pathlib import Path

from blackwell_decide.errors import UsageError
from blackwell_decide.model import Deployment, ModelArch, QuantScheme
from blackwell_decide.plugins import Catalog

DEFAULT_EMBEDDINGS_FORMAT = "bf16"


def resolve_model(catalog: Catalog, model: str | None, model_config: str | Path | None = None) -> ModelArch:
    """A built-in or plugin model by key, or any Hugging Face ``config.json`` by path."""
    if model_config is not None:
        if model:
            raise UsageError(f"both --model {model!r} and --model-config {str(model_config)!r} given: pass one of them")
        from blackwell_decide.model_files import load_model_config

        return load_model_config(Path(model_config))
    if not model:
        raise UsageError(
            "no model given: pass --model KEY (see `blackwell-decide catalog models`) or --model-config PATH"
        )
    return catalog.models.get(model)


def resolve_scheme(
    catalog: Catalog,
    weights: str,
    kv: str | None = None,
    embeddings: str = DEFAULT_EMBEDDINGS_FORMAT,
    activations: str | None = None,
    accelerator_key: str | None = None,
    non_expert_weights: str | None = None,
) -> QuantScheme:
    """A scheme from format keys. KV defaults to the weights' format when it is 8 bits or more,
    else FP8 (what FP4 checkpoints are served with); activations default to the weights' format
    where the accelerator runs it natively, else BF16 (weight-only execution)."""
    w = catalog.formats.get(weights)
    if kv is None:
        kv_format = w if w.element_bits >= 8 else catalog.formats.get("fp8")
    else:
        kv_format = catalog.formats.get(kv)
        if kv_format.zero_point_bits:
            usable = ", ".join(f.key for f in catalog.formats if not f.zero_point_bits)
            raise UsageError(
                f"--kv {kv_format.key}: {kv_format.name} is a weight-only format (per-group zero points); "
                f"a KV cache is stored in one of {usable}"
            )
    if activations is None:
        if accelerator_key is not None:
            native = catalog.accelerators.get(accelerator_key).runs_natively(w.key)
        else:
            native = w.element_bits >= 8
        act = w if native else catalog.formats.get("bf16")
    else:
        act = catalog.formats.get(activations)
    non_expert = catalog.formats.get(non_expert_weights) if non_expert_weights else None
    return QuantScheme(
        weights=w,
        embeddings=catalog.formats.get(embeddings),
        kv_cache=kv_format,
        activations=act,
        non_expert_weights=None if non_expert is None or non_expert.key == w.key else non_expert,
    )


def default_non_expert_weights(catalog: Catalog, arch: ModelArch, weights: str) -> str | None:
    """The published checkpoint's format for the layers outside the routed experts, when the
    weights asked for are that checkpoint's expert format (gpt-oss: MXFP4 experts, BF16 attention).
    Quantising a checkpoint yourself to another format is taken to quantise every linear layer."""
    # A checkpoint that names only its experts' format keeps the rest at its 16-bit dtype.
    expert, dense = arch.native_expert_format, arch.native_weight_format or DEFAULT_EMBEDDINGS_FORMAT
    if not (expert and expert != dense and dense in catalog.formats):
        return None
    return dense if catalog.formats.resolve(weights) == expert else None


def resolve_deployment(
    *,
    model: str | None,
    gpu: str,
    weights: str,
    kv: str | None = None,
    tp: int = 1,
    model_config: str | Path | None = None,
    embeddings: str = DEFAULT_EMBEDDINGS_FORMAT,
    activations: str | None = None,
    non_expert_weights: str | None = None,
    catalog: Catalog,
) -> Deployment:
    if tp < 1:
        raise UsageError(f"--tp must be a positive integer, got {tp}")
    arch = resolve_model(catalog, model, model_config)
    check_tensor_parallel(arch, tp)
    accelerator = catalog.accelerators.get(gpu)
    if non_expert_weights is None:
        non_expert_weights = default_non_expert_weights(catalog, arch, weights)
    elif not arch.is_moe:
        raise UsageError(
            f"--non-expert-weights: {arch.name} has no routed experts; give the weight format with --weights"
        )
    scheme = resolve_scheme(catalog, weights, kv, embeddings, activations, accelerator.key, non_expert_weights)
    return Deployment(model=arch, accelerator=accelerator, scheme=scheme, tp=tp)


def check_tensor_parallel(arch: ModelArch, tp: int) -> None:
    """Tensor parallelism splits attention heads evenly across GPUs; engines refuse other sizes."""
    heads = arch.num_attention_heads
    if heads % tp:
        valid = [n for n in range(1, heads + 1) if heads % n == 0 and n <= 128]
        raise UsageError(
            f"--tp {tp}: {arch.name} has {heads} attention heads, which tensor parallelism splits evenly "
            f"across GPUs; use one of {', '.join(map(str, valid))}"
        )
