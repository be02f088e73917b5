"""Read the architecture out of a Hugging Face ``config.json`` mapping.

Families differ in how they name the same thing (``num_experts`` / ``n_routed_experts`` /
``num_local_experts``) and in what they leave implicit (Qwen2 always has q/k/v biases, Qwen3
always normalises q and k per head, gpt-oss always has attention sinks and expert biases). This
module turns those conventions into :class:`~blackwell_decide.model.ModelArch` keyword arguments;
whatever it had to assume is written into ``notes`` so that a reader can check it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.model import validators as v
from blackwell_decide.model.arch import MLAConfig, MoEConfig

_FIX = "copy it from the model's config.json on Hugging Face"

#: The families this reader knows. Their transformers config classes all default
#: ``tie_word_embeddings`` to False; for any other model type the ``PretrainedConfig`` default
#: (True) applies when the field is absent.
_KNOWN_FAMILIES = frozenset(
    {
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen2_moe",
        "qwen3",
        "qwen3_moe",
        "deepseek_v2",
        "deepseek_v3",
        "gpt_oss",
    }
)
#: Families whose feed-forward is a plain two-matrix MLP rather than a gated (SwiGLU/GeGLU) one.
_UNGATED_MLP = frozenset({"gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "phi", "gpt_bigcode"})
#: Families with per-head RMSNorm on queries and keys.
_QK_NORM = frozenset({"qwen3", "qwen3_moe"})
#: Families whose q, k and v projections always carry biases (and o_proj none), with no config key.
_QKV_BIAS_ALWAYS = frozenset({"qwen2", "qwen2_moe"})
#: Families whose layers alternate sliding-window and full attention when ``layer_types`` is absent.
_ALTERNATING_SLIDING = frozenset({"gpt_oss"})
#: Families that apply ``sliding_window`` to every layer whenever it is set.
_SLIDING_ALL_LAYERS = frozenset({"mistral", "mixtral"})
#: Families whose ``sliding_window`` only applies with ``use_sliding_window`` and above ``max_window_layers``.
_SLIDING_ABOVE_MAX_WINDOW = frozenset({"qwen2", "qwen2_moe", "qwen3", "qwen3_moe"})

_DTYPE_FORMATS = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


class HFConfigError(UsageError):
    """A field of a Hugging Face config is missing or invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _present(config: Mapping[str, Any], names: Sequence[str]) -> tuple[str, Any] | None:
    for name in names:
        value = config.get(name)
        if value is not None:
            return name, value
    return None


#: Fields counted in tokens may be far larger than the sizes and counts every other field holds.
_TOKEN_FIELDS = frozenset({"sliding_window", "max_position_embeddings", "n_positions"})
_LAYER_FIELDS = frozenset(
    {"num_hidden_layers", "n_layer", "num_layers", "first_k_dense_replace", "max_window_layers", "moe_layer_freq"}
)


def _as_int(name: str, value: Any, *, minimum: int) -> int:
    # JSON writers sometimes emit 8192.0; bools are ints in Python but never a size. The upper
    # limits are physical (validators.MAX_*): they also bound every loop over layers.
    maximum = int(v.MAX_TOKENS) if name in _TOKEN_FIELDS else v.MAX_LAYERS if name in _LAYER_FIELDS else v.MAX_COUNT
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or value != int(value)
    ):
        raise HFConfigError(name, f"field {name!r} must be an integer, got {_shown(value)}; {_FIX}")
    if value < minimum:
        raise HFConfigError(name, f"field {name!r} must be at least {minimum}, got {_shown(value)}; {_FIX}")
    if value > maximum:
        raise HFConfigError(name, f"field {name!r} must be at most {maximum:,}, got {_shown(value)}; {_FIX}")
    return int(value)


def _shown(value: Any) -> str:
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _required_int(config: Mapping[str, Any], *names: str) -> int:
    found = _present(config, names)
    if found is None:
        also = f" (also accepted: {', '.join(repr(n) for n in names[1:])})" if len(names) > 1 else ""
        raise HFConfigError(names[0], f"missing required field {names[0]!r}{also}; {_FIX}")
    return _as_int(found[0], found[1], minimum=1)


def _optional_int(config: Mapping[str, Any], *names: str, minimum: int = 1) -> int | None:
    found = _present(config, names)
    return None if found is None else _as_int(found[0], found[1], minimum=minimum)


def _bool(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise HFConfigError(name, f"field {name!r} must be true or false, got {value!r}; {_FIX}")
    return value


def _language_model_fields(config: Mapping[str, Any], notes: list[str]) -> Mapping[str, Any]:
    """Multimodal configs nest the language model under ``text_config``."""
    text = config.get("text_config")
    if "hidden_size" not in config and isinstance(text, Mapping):
        notes.append("architecture read from text_config (the language model of a multimodal config)")
        return {**config, **text}
    return config


def _count_layers(num_layers: int, is_kind: Callable[[int], bool]) -> int:
    return sum(1 for layer in range(num_layers) if is_kind(layer))


def _moe_fields(config: Mapping[str, Any], model_type: str, num_layers: int, notes: list[str]) -> MoEConfig | None:
    experts = _optional_int(config, "num_experts", "n_routed_experts", "num_local_experts", minimum=0)
    if not experts:
        return None
    per_token = _required_int(config, "num_experts_per_tok", "experts_per_token", "moe_topk")
    expert_size = _required_int(config, "moe_intermediate_size", "intermediate_size")
    if per_token > experts:
        raise HFConfigError(
            "num_experts_per_tok",
            f"num_experts_per_tok ({per_token}) exceeds the number of experts ({experts}); {_FIX}",
        )

    # DeepSeek: the first k layers are dense, then every moe_layer_freq-th layer is MoE.
    first_dense = _optional_int(config, "first_k_dense_replace", minimum=0) or 0
    frequency = _optional_int(config, "moe_layer_freq") or 1
    # Qwen MoE: layers listed in mlp_only_layers are dense; otherwise every decoder_sparse_step-th.
    mlp_only = config.get("mlp_only_layers") or []
    if not isinstance(mlp_only, list) or not all(isinstance(i, int) for i in mlp_only):
        raise HFConfigError("mlp_only_layers", f"field 'mlp_only_layers' must be a list of layer indices; {_FIX}")
    sparse_step = _optional_int(config, "decoder_sparse_step") or 1

    def is_moe(layer: int) -> bool:
        return (
            layer >= first_dense and layer % frequency == 0 and layer not in mlp_only and (layer + 1) % sparse_step == 0
        )

    dense_layers = num_layers - _count_layers(num_layers, is_moe)

    shared = _optional_int(config, "n_shared_experts", "num_shared_experts", minimum=0) or 0
    shared_size = _optional_int(config, "shared_expert_intermediate_size")
    if shared_size and not shared:
        shared = 1  # Qwen2-MoE: one shared expert of its own width, behind a sigmoid gate
    gpt_oss = model_type == "gpt_oss"
    router_bias = gpt_oss or config.get("topk_method") == "noaux_tc"
    if config.get("topk_method") == "noaux_tc":
        notes.append("router counted with its per-expert score-correction bias (noaux_tc routing)")
    return MoEConfig(
        num_experts=experts,
        experts_per_token=per_token,
        expert_intermediate_size=expert_size,
        num_shared_experts=shared,
        shared_intermediate_size=shared_size,
        dense_layers=dense_layers,
        expert_bias=gpt_oss,
        router_bias=router_bias,
        shared_expert_gate=bool(shared_size),
    )


def _mla_fields(config: Mapping[str, Any]) -> MLAConfig | None:
    kv_lora = _optional_int(config, "kv_lora_rank")
    if kv_lora is None:
        return None
    return MLAConfig(
        kv_lora_rank=kv_lora,
        qk_rope_head_dim=_required_int(config, "qk_rope_head_dim"),
        qk_nope_head_dim=_required_int(config, "qk_nope_head_dim"),
        v_head_dim=_required_int(config, "v_head_dim"),
        q_lora_rank=_optional_int(config, "q_lora_rank"),
    )


def _sliding_fields(
    config: Mapping[str, Any], model_type: str, num_layers: int, notes: list[str]
) -> tuple[int | None, int]:
    window = _optional_int(config, "sliding_window")
    layer_types = config.get("layer_types")
    if isinstance(layer_types, list):
        if len(layer_types) != num_layers:
            raise HFConfigError(
                "layer_types",
                f"field 'layer_types' lists {len(layer_types)} layers but num_hidden_layers is {num_layers}; {_FIX}",
            )
        sliding = sum(1 for kind in layer_types if kind == "sliding_attention")
        if sliding and window is None:
            raise HFConfigError(
                "sliding_window", f"layer_types has sliding_attention layers but no 'sliding_window' size; {_FIX}"
            )
        return (window if sliding else None), sliding
    if window is None:
        return None, 0
    if model_type in _ALTERNATING_SLIDING:
        notes.append("no layer_types given: sliding-window attention assumed on every other layer")
        return window, (num_layers + 1) // 2
    if model_type in _SLIDING_ALL_LAYERS:
        return window, num_layers
    if model_type in _SLIDING_ABOVE_MAX_WINDOW:
        if not _bool(config, "use_sliding_window", False):
            return None, 0
        full = _optional_int(config, "max_window_layers", minimum=0)
        full = num_layers if full is None else min(full, num_layers)
        return (window if full < num_layers else None), num_layers - full
    notes.append(f"sliding_window {window} ignored: model type {model_type!r} does not say which layers use it")
    return None, 0


def _native_formats(config: Mapping[str, Any], notes: list[str]) -> tuple[str | None, str | None]:
    """The formats the published checkpoint stores its weights (and, separately, experts) in."""
    dtype = config.get("torch_dtype") or config.get("dtype")
    weights = _DTYPE_FORMATS.get(dtype) if isinstance(dtype, str) else None
    experts = None
    quant = config.get("quantization_config")
    if isinstance(quant, Mapping):
        method = str(quant.get("quant_method", "")).lower()
        if method == "mxfp4":
            experts = "mxfp4"  # gpt-oss: experts in MXFP4; attention, router, embeddings stay BF16
        elif method == "fp8":
            weights = "fp8"
        elif method:
            notes.append(f"checkpoint is quantised with {method!r}; parameter counts are those of the architecture")
    return weights, experts


def _head_dim(config: Mapping[str, Any], hidden: int, heads: int, mla: MLAConfig | None) -> int:
    """``head_dim`` as given; else MLA's query head (nope + rope parts), else hidden ÷ heads."""
    head_dim = _optional_int(config, "head_dim")
    if head_dim is not None:
        return head_dim
    if mla is not None:
        return mla.qk_nope_head_dim + mla.qk_rope_head_dim
    if hidden % heads:
        raise HFConfigError(
            "head_dim",
            f"missing 'head_dim' and hidden_size ({hidden}) is not divisible by num_attention_heads ({heads}); {_FIX}",
        )
    return hidden // heads


def _tied_embeddings(config: Mapping[str, Any], model_type: str, notes: list[str]) -> bool:
    """``tie_word_embeddings`` as given, else the transformers default for the model type (noted)."""
    if "tie_word_embeddings" in config:
        return _bool(config, "tie_word_embeddings", False)
    tied = model_type not in _KNOWN_FAMILIES
    notes.append(
        f"tie_word_embeddings not given: {'tied' if tied else 'untied'} assumed "
        f"(the transformers default for model type {model_type or '(none)'!r})"
    )
    return tied


def arch_fields_from_hf_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :class:`~blackwell_decide.model.ModelArch` (all but key, name,
    hf_id, sources and published counts) from a Hugging Face ``config.json`` mapping.

    Raises :class:`HFConfigError` (a :class:`~blackwell_decide.errors.UsageError`) naming the
    field when an essential one is missing or invalid. Fields it does not know are ignored.
    """
    if not isinstance(config, Mapping):
        raise HFConfigError("config", f"a Hugging Face config must be a JSON object, got {type(config).__name__}")
    notes: list[str] = []
    config = _language_model_fields(config, notes)
    model_type = str(config.get("model_type") or "").lower()

    hidden = _required_int(config, "hidden_size", "n_embd", "d_model")
    layers = _required_int(config, "num_hidden_layers", "n_layer", "num_layers")
    heads = _required_int(config, "num_attention_heads", "n_head")
    vocab = _required_int(config, "vocab_size")
    kv_heads = _optional_int(config, "num_key_value_heads", "num_kv_heads") or heads
    if heads % kv_heads:
        raise HFConfigError(
            "num_key_value_heads",
            f"num_attention_heads ({heads}) must be a multiple of num_key_value_heads ({kv_heads}); {_FIX}",
        )

    mla = _mla_fields(config)
    head_dim = _head_dim(config, hidden, heads, mla)

    moe = _moe_fields(config, model_type, layers, notes)
    intermediate = _optional_int(config, "intermediate_size", "n_inner", "ffn_dim")
    if intermediate is None:
        if moe is None:
            raise HFConfigError("intermediate_size", f"missing required field 'intermediate_size'; {_FIX}")
        intermediate = moe.expert_intermediate_size

    tied = _tied_embeddings(config, model_type, notes)

    if model_type in _QKV_BIAS_ALWAYS:
        qkv_bias, o_bias = True, False
    else:
        qkv_bias = o_bias = _bool(config, "attention_bias", False)
    window, sliding_layers = _sliding_fields(config, model_type, layers, notes)
    weight_format, expert_format = _native_formats(config, notes)
    if model_type not in _KNOWN_FAMILIES:
        notes.append(
            f"model type {model_type or '(none)'!r} is not one of the families this reader knows; "
            "norms, biases and MLP gating follow the Llama layout"
        )

    return {
        "num_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": intermediate,
        "vocab_size": vocab,
        "tie_word_embeddings": tied,
        "gated_mlp": model_type not in _UNGATED_MLP,
        "attention_bias": qkv_bias,
        "o_proj_bias": o_bias,
        "mlp_bias": _bool(config, "mlp_bias", False),
        "qk_norm": model_type in _QK_NORM,
        "attention_sinks": model_type == "gpt_oss",
        "sliding_window": window,
        "sliding_window_layers": sliding_layers,
        "moe": moe,
        "mla": mla,
        "mtp_layers": _optional_int(config, "num_nextn_predict_layers", minimum=0) or 0,
        "max_position_embeddings": _optional_int(config, "max_position_embeddings", "n_positions"),
        "native_weight_format": weight_format,
        "native_expert_format": expert_format,
        "notes": tuple(notes),
    }
