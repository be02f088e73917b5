"""Read the architecture out of a Hugging Face ``config.json`` mapping.

Families differ in how they name the same thing (``num_experts`` / ``n_routed_experts`` /
``num_local_experts``) and in what they leave implicit (Qwen2 always has q/k/v biases, Qwen3
always normalises q and k per head, gpt-oss always has attention sinks and expert biases). This
module turns those conventions into :class:`~blackwell_decide.model.ModelArch` keyword arguments;
whatever it had to assume is written into ``notes`` so that a reader can check it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import NumberRule, ValueProblem, checked_flag, checked_number
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


@attrs.frozen
class ConfigProblem:
    """One problem with a config: the field's path (``text_config.hidden_size`` where a multimodal
    config nests it) and what is wrong with it, followed by how to fix it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class HFConfigError(UsageError):
    """One or more fields of a Hugging Face config are missing or invalid. ``problems`` lists every
    one found in a single pass; ``field`` names the first (``problems[0].field``); ``file`` is the
    config file where the caller knows it."""

    def __init__(self, problems: Sequence[ConfigProblem], *, file: str = "") -> None:
        if not problems:
            raise ValueError("an HFConfigError needs at least one problem")
        self.problems = tuple(problems)
        self.field = self.problems[0].field
        self.file = file
        where = f"model config {file}: " if file else ""
        if len(self.problems) == 1:
            text = f"{where}{self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{where}{len(self.problems)} problems:\n{lines}"
        super().__init__(text)

    def in_file(self, file: str) -> HFConfigError:
        """The same problems, named as those of ``file``."""
        return HFConfigError(self.problems, file=file)


#: Fields counted in tokens may be far larger than the sizes and counts every other field holds.
_TOKEN_FIELDS = frozenset({"sliding_window", "max_position_embeddings", "n_positions"})
_LAYER_FIELDS = frozenset(
    {"num_hidden_layers", "n_layer", "num_layers", "first_k_dense_replace", "max_window_layers", "moe_layer_freq"}
)


def _rule(name: str, minimum: int) -> NumberRule:
    # JSON writers sometimes emit 8192.0; bools are ints in Python but never a size. The upper
    # limits are physical (validators.MAX_*): they also bound every loop over layers.
    maximum = v.MAX_TOKENS if name in _TOKEN_FIELDS else v.MAX_LAYERS if name in _LAYER_FIELDS else v.MAX_COUNT
    return NumberRule(minimum=minimum, maximum=maximum, whole=True)


class _Reader:
    """Reads the fields of one config, recording every problem instead of stopping at the first.

    A cross-field check (heads a multiple of KV heads, experts per token within the experts) runs
    only while every field read so far is valid (:attr:`clean`), so a bad field never shows up a
    second time as a derived inconsistency."""

    def __init__(self, config: Mapping[str, Any], nested: frozenset[str] = frozenset()) -> None:
        self.config = config
        self.nested = nested  # the keys that came from text_config
        self.problems: list[ConfigProblem] = []

    @property
    def clean(self) -> bool:
        return not self.problems

    def get(self, name: str) -> Any:
        return self.config.get(name)

    def fail(self, name: str, message: str) -> None:
        path = f"text_config.{name}" if name in self.nested else name
        self.problems.append(ConfigProblem(path, f"{message}; {_FIX}"))

    def present(self, names: Sequence[str]) -> tuple[str, Any] | None:
        for name in names:
            value = self.config.get(name)
            if value is not None:
                return name, value
        return None

    def _whole(self, name: str, value: Any, minimum: int) -> int | None:
        number = checked_number(value, _rule(name, minimum))
        if isinstance(number, ValueProblem):
            self.fail(name, number.message)
            return None
        return int(number)

    def required(self, *names: str) -> int | None:
        """The first of ``names`` present, a whole number of at least 1 (None, recorded, if not)."""
        found = self.present(names)
        if found is None:
            also = f" (also accepted: {', '.join(repr(n) for n in names[1:])})" if len(names) > 1 else ""
            self.fail(names[0], f"missing required field{also}")
            return None
        return self._whole(found[0], found[1], 1)

    def optional(self, *names: str, minimum: int = 1) -> int | None:
        found = self.present(names)
        return None if found is None else self._whole(found[0], found[1], minimum)

    def flag(self, name: str, default: bool) -> bool:
        value = self.config.get(name)
        if value is None:
            return default
        flag = checked_flag(value)
        if isinstance(flag, ValueProblem):
            self.fail(name, flag.message)
            return default
        return flag


def _language_model_fields(config: Mapping[str, Any], notes: list[str]) -> _Reader:
    """Multimodal configs nest the language model under ``text_config``."""
    text = config.get("text_config")
    if "hidden_size" not in config and isinstance(text, Mapping):
        notes.append("architecture read from text_config (the language model of a multimodal config)")
        return _Reader({**config, **text}, frozenset(key for key in text if isinstance(key, str)))
    return _Reader(config)


def _count_layers(num_layers: int, is_kind: Callable[[int], bool]) -> int:
    return sum(1 for layer in range(num_layers) if is_kind(layer))


def _dense_layers(r: _Reader, num_layers: int | None) -> int | None:
    """Layers without experts: DeepSeek's first k then all but every moe_layer_freq-th; Qwen MoE's
    mlp_only_layers and all but every decoder_sparse_step-th."""
    first_dense = r.optional("first_k_dense_replace", minimum=0) or 0
    frequency = r.optional("moe_layer_freq") or 1
    mlp_only = r.get("mlp_only_layers") or []
    if not isinstance(mlp_only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in mlp_only):
        r.fail("mlp_only_layers", f"must be a list of layer indices, got {mlp_only!r}")
        mlp_only = []
    sparse_step = r.optional("decoder_sparse_step") or 1
    if num_layers is None:
        return None

    def is_moe(layer: int) -> bool:
        return (
            layer >= first_dense and layer % frequency == 0 and layer not in mlp_only and (layer + 1) % sparse_step == 0
        )

    return num_layers - _count_layers(num_layers, is_moe)


_EXPERT_COUNTS = ("num_experts", "n_routed_experts", "num_local_experts")


def _moe_fields(r: _Reader, model_type: str, num_layers: int | None, notes: list[str]) -> MoEConfig | None:
    experts = r.optional(*_EXPERT_COUNTS, minimum=0)
    if experts == 0 and r.get("num_experts_per_tok"):
        # Some dense configs write 0 experts; one that also routes each token to experts is a
        # broken MoE config, which read as dense would count a far smaller model.
        found = r.present(_EXPERT_COUNTS)
        r.fail(found[0] if found else _EXPERT_COUNTS[0], "is 0 while num_experts_per_tok routes tokens to experts")
        return None
    if not experts:
        return None
    per_token = r.required("num_experts_per_tok", "experts_per_token", "moe_topk")
    expert_size = r.required("moe_intermediate_size", "intermediate_size")
    if per_token is not None and per_token > experts and r.clean:
        r.fail("num_experts_per_tok", f"{per_token} exceeds the number of experts ({experts})")
    dense_layers = _dense_layers(r, num_layers)
    shared = r.optional("n_shared_experts", "num_shared_experts", minimum=0) or 0
    shared_size = r.optional("shared_expert_intermediate_size")
    if shared_size and not shared:
        shared = 1  # Qwen2-MoE: one shared expert of its own width, behind a sigmoid gate
    if per_token is None or expert_size is None or dense_layers is None or not r.clean:
        return None
    gpt_oss = model_type == "gpt_oss"
    router_bias = gpt_oss or r.get("topk_method") == "noaux_tc"
    if r.get("topk_method") == "noaux_tc":
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


def _mla_fields(r: _Reader) -> MLAConfig | None:
    kv_lora = r.optional("kv_lora_rank")
    if kv_lora is None:
        return None
    rope, nope, v_dim = r.required("qk_rope_head_dim"), r.required("qk_nope_head_dim"), r.required("v_head_dim")
    q_lora = r.optional("q_lora_rank")
    if rope is None or nope is None or v_dim is None:
        return None
    return MLAConfig(
        kv_lora_rank=kv_lora, qk_rope_head_dim=rope, qk_nope_head_dim=nope, v_head_dim=v_dim, q_lora_rank=q_lora
    )


def _layer_types(r: _Reader, layer_types: list[Any], window: int | None, num_layers: int) -> tuple[int | None, int]:
    if len(layer_types) != num_layers:
        r.fail("layer_types", f"lists {len(layer_types)} layers but num_hidden_layers is {num_layers}")
        return None, 0
    sliding = sum(1 for kind in layer_types if kind == "sliding_attention")
    if sliding and window is None:
        r.fail("sliding_window", "missing: layer_types has sliding_attention layers but no sliding_window size")
    return (window if sliding else None), sliding


def _sliding_fields(r: _Reader, model_type: str, num_layers: int | None, notes: list[str]) -> tuple[int | None, int]:
    window = r.optional("sliding_window")
    layer_types = r.get("layer_types")
    if num_layers is None or not r.clean:
        return None, 0
    if isinstance(layer_types, list):
        return _layer_types(r, layer_types, window, num_layers)
    if window is None:
        return None, 0
    if model_type in _ALTERNATING_SLIDING:
        notes.append("no layer_types given: sliding-window attention assumed on every other layer")
        return window, (num_layers + 1) // 2
    if model_type in _SLIDING_ALL_LAYERS:
        return window, num_layers
    if model_type in _SLIDING_ABOVE_MAX_WINDOW:
        if not r.flag("use_sliding_window", False):
            return None, 0
        full = r.optional("max_window_layers", minimum=0)
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


def _head_dim(r: _Reader, hidden: int | None, heads: int | None, mla: MLAConfig | None) -> int | None:
    """``head_dim`` as given; else MLA's query head (nope + rope parts), else hidden ÷ heads."""
    head_dim = r.optional("head_dim")
    if head_dim is not None:
        return head_dim
    if mla is not None:
        return mla.qk_nope_head_dim + mla.qk_rope_head_dim
    if hidden is None or heads is None or not r.clean:
        return None
    if hidden % heads:
        r.fail("head_dim", f"missing, and hidden_size ({hidden}) is not divisible by num_attention_heads ({heads})")
        return None
    return hidden // heads


def _tied_embeddings(r: _Reader, model_type: str, notes: list[str]) -> bool:
    """``tie_word_embeddings`` as given, else the transformers default for the model type (noted)."""
    if "tie_word_embeddings" in r.config:
        return r.flag("tie_word_embeddings", False)
    tied = model_type not in _KNOWN_FAMILIES
    notes.append(
        f"tie_word_embeddings not given: {'tied' if tied else 'untied'} assumed "
        f"(the transformers default for model type {model_type or '(none)'!r})"
    )
    return tied


def _attention(r: _Reader, model_type: str, notes: list[str]) -> dict[str, Any]:
    """Sizes, heads and attention layout; None where a field is bad (recorded on ``r``)."""
    hidden = r.required("hidden_size", "n_embd", "d_model")
    layers = r.required("num_hidden_layers", "n_layer", "num_layers")
    heads = r.required("num_attention_heads", "n_head")
    vocab = r.required("vocab_size")
    kv_heads = r.optional("num_key_value_heads", "num_kv_heads") or heads
    if heads is not None and kv_heads is not None and heads % kv_heads and r.clean:
        r.fail("num_key_value_heads", f"num_attention_heads ({heads}) must be a multiple of it ({kv_heads})")
    mla = _mla_fields(r)
    if model_type in _QKV_BIAS_ALWAYS:
        qkv_bias, o_bias = True, False
    else:
        qkv_bias = o_bias = r.flag("attention_bias", False)
    return {
        "num_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": _head_dim(r, hidden, heads, mla),
        "vocab_size": vocab,
        "attention_bias": qkv_bias,
        "o_proj_bias": o_bias,
        "qk_norm": model_type in _QK_NORM,
        "attention_sinks": model_type == "gpt_oss",
        "mla": mla,
    }


def _feed_forward(r: _Reader, model_type: str, num_layers: int | None, notes: list[str]) -> dict[str, Any]:
    moe = _moe_fields(r, model_type, num_layers, notes)
    intermediate = r.optional("intermediate_size", "n_inner", "ffn_dim")
    if intermediate is None and moe is not None:
        intermediate = moe.expert_intermediate_size
    elif intermediate is None and r.present(_EXPERT_COUNTS) is None:  # else a bad expert count is reported
        r.fail("intermediate_size", "missing required field")
    return {
        "intermediate_size": intermediate,
        "gated_mlp": model_type not in _UNGATED_MLP,
        "mlp_bias": r.flag("mlp_bias", False),
        "moe": moe,
    }


def arch_fields_from_hf_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :class:`~blackwell_decide.model.ModelArch` (all but key, name,
    hf_id, sources and published counts) from a Hugging Face ``config.json`` mapping.

    Raises one :class:`HFConfigError` (a :class:`~blackwell_decide.errors.UsageError`) listing
    every essential field that is missing or invalid, each with its fix. Fields it does not know
    are ignored.
    """
    if not isinstance(config, Mapping):
        problem = ConfigProblem("config", f"a Hugging Face config must be a JSON object, got {type(config).__name__}")
        raise HFConfigError([problem])
    notes: list[str] = []
    r = _language_model_fields(config, notes)
    model_type = str(r.get("model_type") or "").lower()
    fields = _attention(r, model_type, notes)
    fields.update(_feed_forward(r, model_type, fields["num_layers"], notes))
    fields["tie_word_embeddings"] = _tied_embeddings(r, model_type, notes)
    fields["sliding_window"], fields["sliding_window_layers"] = _sliding_fields(
        r, model_type, fields["num_layers"], notes
    )
    fields["mtp_layers"] = r.optional("num_nextn_predict_layers", minimum=0) or 0
    fields["max_position_embeddings"] = r.optional("max_position_embeddings", "n_positions")
    if r.problems:
        raise HFConfigError(r.problems)
    fields["native_weight_format"], fields["native_expert_format"] = _native_formats(r.config, notes)
    if model_type not in _KNOWN_FAMILIES:
        notes.append(
            f"model type {model_type or '(none)'!r} is not one of the families this reader knows; "
            "norms, biases and MLP gating follow the Llama layout"
        )
    fields["notes"] = tuple(notes)
    return fields
