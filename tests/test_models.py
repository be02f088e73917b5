"""The model catalog: parameter counts computed from each config.json equal the published counts,
KV-cache and attention arithmetic, and loading any Hugging Face config.json.

Every expected figure below cites where it comes from. "Exact" counts are tested to the
parameter; counts published rounded (235B, 46.7B, 116.83B) are tested to half the last digit
the publisher gave, which is the whole of the rounding and nothing more.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from blackwell_decide.builtin.models import builtin_models
from blackwell_decide.errors import UnknownKeyError, UsageError
from blackwell_decide.model import ModelArch
from blackwell_decide.model._hf_config import HFConfigError
from blackwell_decide.model_files import load_model_config
from blackwell_decide.plugins import Catalog, build_catalog
from blackwell_decide.units import GiB

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
BUILTIN_KEYS = (
    "llama-3.3-70b",
    "llama-3.1-70b",
    "llama-2-70b",
    "llama-3.1-8b",
    "llama-3.1-405b",
    "mixtral-8x7b",
    "qwen3-235b-a22b",
    "deepseek-v3",
    "gpt-oss-120b",
)
B = 1_000_000_000
BF16_BYTES = 2  # bytes per element
FP8_BYTES = 1
# OCP Microscaling (MX) v1.0: 32 FP4 (E2M1) elements share one 8-bit E8M0 scale -> 4.25 bits.
MXFP4_BYTES = (32 * 4 + 8) / 32 / 8


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def from_fixture(name: str) -> ModelArch:
    return ModelArch.from_hf_config(fixture(name), key=name)


@pytest.fixture(scope="module")
def models() -> dict[str, ModelArch]:
    return {model.key: model for model in builtin_models()}


@pytest.fixture(scope="module")
def models_only_catalog() -> Catalog:
    # Only this plugin, so the lookup tests do not depend on the other built-in catalogs.
    return build_catalog(builtins=("blackwell_decide.builtin.models",), entry_points=False)


# ----------------------------------------------------------------------------- the catalog
def test_the_catalog_has_exactly_the_nine_builtin_models(models: dict[str, ModelArch]) -> None:
    assert tuple(models) == BUILTIN_KEYS


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_builtin_model_equals_its_fixture_config(models: dict[str, ModelArch], key: str) -> None:
    assert models[key].params == from_fixture(key).params
    assert models[key].kv_elements_per_token(32768) == from_fixture(key).kv_elements_per_token(32768)


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_every_builtin_figure_has_a_dated_source(models: dict[str, ModelArch], key: str) -> None:
    model = models[key]
    for field in (*fixture(key), "config", "published_total_params", "published_active_params"):
        source = model.sources[field]
        assert source.url and source.date, (key, field)


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_published_counts_agree_with_the_computed_ones_within_their_rounding(
    models: dict[str, ModelArch], key: str
) -> None:
    """The catalog's own published figures; each is restated with its citation in the tests below."""
    model = models[key]
    assert model.published_total_params is not None and model.published_active_params is not None
    # the coarsest rounding in the catalog is to 1B (235B, 671B, 22B): half of it
    assert abs(model.params.total - model.published_total_params) <= 0.5 * B
    assert abs(model.active_params_as_published - model.published_active_params) <= 0.5 * B


# ----------------------------------------------------------------------- dense Llama models
def test_llama_3_3_70b_exact_count_and_split(models: dict[str, ModelArch]) -> None:
    p = models["llama-3.3-70b"].params
    # 70,553,706,496: computed from the official config in "Tokenomics from first principles"
    # (2025) and equal to the Llama-3.1-70B checkpoint index, total_size 141,107,412,992 B at
    # 2 B/param (https://huggingface.co/meta-llama/Llama-3.1-70B, model.safetensors.index.json).
    assert p.total == 70_553_706_496
    assert p.total * BF16_BYTES == 141_107_412_992
    # catalog.md §4 split: 80 x (attention 150,994,944 + MLP 704,643,072) linear parameters,
    # embedding = lm_head = 128,256 x 8,192, RMSNorm weights 1,318,912.
    assert p.linear == 80 * (150_994_944 + 704_643_072) == 68_451_041_280
    assert p.embedding == p.lm_head == p.lm_head_stored == 1_050_673_152
    assert p.other == 1_318_912
    # what a decode step multiplies: every linear weight plus the lm_head (catalog.md §4)
    assert p.compute_active == 69_501_714_432


def test_llama_3_1_70b_is_the_same_architecture(models: dict[str, ModelArch]) -> None:
    # Llama-3.1-70B checkpoint index: total_size 141,107,412,992 B in BF16 = 70,553,706,496 params.
    assert models["llama-3.1-70b"].params.total == 70_553_706_496
    # its config (like the early 3.1 copies) has no head_dim: 8192 / 64 heads = 128
    assert models["llama-3.1-70b"].head_dim == 128


def test_llama_3_1_8b_exact_count(models: dict[str, ModelArch]) -> None:
    # https://huggingface.co/meta-llama/Llama-3.1-8B model.safetensors.index.json:
    # total_size 16,060,522,496 B in BF16 -> 8,030,261,248 parameters.
    assert models["llama-3.1-8b"].params.total == 8_030_261_248 == 16_060_522_496 // BF16_BYTES


def test_llama_3_1_405b_exact_count(models: dict[str, ModelArch]) -> None:
    # 405,853,388,800: derived from the config with 8 KV heads (catalog_models.csv); 16 KV heads,
    # as early copies said, would give 410,081,247,232, inconsistent with the "405B" name.
    model = models["llama-3.1-405b"]
    assert model.params.total == 405_853_388_800
    assert model.num_kv_heads == 8


def test_llama_2_70b_exact_count(models: dict[str, ModelArch]) -> None:
    # 68,976,648,192: Together's parameter-count table (togethercomputer/llama-2-70b) and the
    # "#Orig. Params" of LLaMA-2-70B in the LoRAM paper.
    model = models["llama-2-70b"]
    assert model.params.total == 68_976_648_192
    assert model.max_position_embeddings == 4096  # Llama 2 MODEL_CARD.md: 4k context


# ----------------------------------------------------------------------------- MoE models
def test_mixtral_8x7b_counts(models: dict[str, ModelArch]) -> None:
    p = models["mixtral-8x7b"].params
    # catalog_models.csv (derived from the official config): 46,702,792,704 / 12,879,925,248
    assert p.total == 46_702_792_704
    assert p.active == 12_879_925_248
    # https://mistral.ai/news/mixtral-of-experts/ (2023-12-11): "46.7B total parameters but only
    # uses 12.9B parameters per token" -- published to 0.1B, embedding table included
    assert abs(p.total - 46.7 * B) <= 0.05 * B
    assert abs(p.active - 12.9 * B) <= 0.05 * B


def test_qwen3_235b_a22b_counts(models: dict[str, ModelArch]) -> None:
    p = models["qwen3-235b-a22b"].params
    # 235,093,634,560: the Hugging Face safetensors count of Qwen/Qwen3-235B-A22B as listed in a
    # public model table; equal to the catalog's derivation from the MindSpeed-RL config.
    assert p.total == 235_093_634_560
    # https://huggingface.co/Qwen/Qwen3-235B-A22B (2025-04-29): "235B in total and 22B activated",
    # "Number of Paramaters (Non-Embedding): 234B" -- to 1B
    assert abs(p.active - 22 * B) <= 0.5 * B
    assert abs(p.non_embedding - 234 * B) <= 0.5 * B
    assert p.active == 22_190_763_520  # catalog_models.csv derived active count


def test_deepseek_v3_counts_leave_out_the_mtp_module(models: dict[str, ModelArch]) -> None:
    model = models["deepseek-v3"]
    p = model.params
    # https://huggingface.co/deepseek-ai/DeepSeek-V3: 671B total, 37B activated (to 1B)
    assert abs(p.total - 671 * B) <= 0.5 * B
    # README_WEIGHTS.md: 36.6B activated "including 0.9B for the output Head", i.e. the lm_head
    # counted and the embedding table not (to 0.1B)
    assert abs(p.active_excluding_embedding - 36.6 * B) <= 0.05 * B
    assert abs(p.active_excluding_embedding - 37 * B) <= 0.5 * B
    assert abs(p.lm_head - 0.9 * B) <= 0.05 * B
    assert model.mtp_layers == 1
    # README_WEIGHTS.md: the MTP module adds "11.5B unique parameters" (to 0.1B; our count also
    # includes its 2·7168 x 7168 eh_proj, 0.10B, which that rounding appears to leave out)
    assert abs(model.mtp_params - 2 * 7168 * 7168 - 11.5 * B) <= 0.05 * B


def _fp8_block_scale_count(model: ModelArch) -> int:
    """FP8 checkpoints with 128x128 weight blocks store one FP32 scale per block of every
    quantised linear weight: attention and expert/shared/dense MLP matrices (not the router)."""
    assert model.mla is not None and model.moe is not None
    m, e, h, heads = model.mla, model.moe, model.hidden_size, model.num_attention_heads

    def blocks(rows: int, cols: int) -> int:
        return math.ceil(rows / 128) * math.ceil(cols / 128)

    assert m.q_lora_rank is not None
    attention = (
        blocks(m.q_lora_rank, h)
        + blocks(heads * (m.qk_nope_head_dim + m.qk_rope_head_dim), m.q_lora_rank)
        + blocks(m.kv_lora_rank + m.qk_rope_head_dim, h)
        + blocks(heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank)
        + blocks(h, heads * m.v_head_dim)
    )

    def mlp(width: int) -> int:
        return 2 * blocks(width, h) + blocks(h, width)

    layers = model.num_layers + model.mtp_layers
    moe_layers = layers - e.dense_layers
    experts = e.num_experts + e.num_shared_experts
    return (
        layers * attention
        + e.dense_layers * mlp(model.intermediate_size)
        + moe_layers * experts * mlp(e.expert_intermediate_size)
    )


def test_deepseek_v3_checkpoint_count_reconciles_to_the_parameter(models: dict[str, ModelArch]) -> None:
    """The Hugging Face safetensors count of deepseek-ai/DeepSeek-V3 is 684,531,386,000 (listed
    in a public model table; the card rounds it to 685B = 671B main + 14B MTP). It is the main
    model, plus the MTP module, plus the MTP module's own stored copies of the embedding and the
    head, plus the FP8 checkpoint's per-block scales."""
    model = models["deepseek-v3"]
    p = model.params
    stored = p.total + model.mtp_params + p.embedding + p.lm_head + _fp8_block_scale_count(model)
    assert stored == 684_531_386_000
    assert model.native_weight_format == "fp8"


def test_gpt_oss_120b_counts_match_the_model_card(models: dict[str, ModelArch]) -> None:
    model = models["gpt-oss-120b"]
    p = model.params
    # gpt-oss model card (arXiv 2508.10925, 2025-08-08), Table 1, to 0.01B: total 116.83B,
    # active 5.13B ("Unembedding parameters are counted towards active, but not embeddings"),
    # embed + unembed 1.16B
    assert abs(p.total - 116.83 * B) <= 0.005 * B
    assert abs(p.active_excluding_embedding - 5.13 * B) <= 0.005 * B
    assert abs(p.embedding + p.lm_head_stored - 1.16 * B) <= 0.005 * B
    assert model.active_params_as_published == p.active_excluding_embedding
    # Table 1: checkpoint 60.8 GiB (to 0.1 GiB) with the routed experts in MXFP4 and everything
    # else (attention, router, biases, sinks, norms, embedding, lm_head) in BF16
    assert model.native_expert_format == "mxfp4"
    checkpoint = p.routed_expert * MXFP4_BYTES + (p.total - p.routed_expert) * BF16_BYTES
    assert abs(checkpoint / GiB - 60.8) <= 0.05


def test_gpt_oss_attention_sinks_and_biases_are_counted(models: dict[str, ModelArch]) -> None:
    """Without sinks, attention biases and expert biases the total falls short of the card's
    116.83B by 40M parameters: the card's two decimals resolve them."""
    model = models["gpt-oss-120b"]
    bare = ModelArch.from_hf_config(
        {**fixture("gpt-oss-120b"), "attention_bias": False, "model_type": "gpt_oss_like"}, key="bare"
    )
    assert model.attention_sinks and model.attention_bias and model.moe is not None and model.moe.expert_bias
    assert model.params.total - bare.params.total > 0.01 * B


# --------------------------------------------------------------------- other families
def test_qwen2_has_qkv_biases_without_a_config_key() -> None:
    # Qwen/Qwen2.5-7B-Instruct: 7,615,616,512 parameters (its Hugging Face safetensors count, also
    # GGUF general.parameter_count); q/k/v carry biases though the config has no attention_bias.
    model = from_fixture("qwen2.5-7b-instruct")
    assert model.params.total == 7_615_616_512
    assert model.attention_bias and not model.o_proj_bias
    # sliding_window is set but use_sliding_window is false: every layer attends in full
    assert model.sliding_window_layers == 0


def test_qwen3_dense_has_per_head_qk_norms() -> None:
    # Qwen/Qwen3-32B: 32,762,123,264 (Hugging Face safetensors BF16 count, quoted in public
    # model registries); q_proj is 5120 -> 8192 since heads x head_dim != hidden_size.
    model = from_fixture("qwen3-32b")
    assert model.qk_norm
    assert model.params.total == 32_762_123_264


def test_tied_embeddings_store_one_matrix() -> None:
    # meta-llama/Llama-3.2-3B-Instruct: safetensors.parameters.BF16 = 3,212,749,824, tied.
    model = from_fixture("llama-3.2-3b-instruct")
    p = model.params
    assert p.total == 3_212_749_824
    assert p.lm_head_stored == 0 and p.lm_head == p.embedding == 128_256 * 3072
    untied = ModelArch.from_hf_config({**fixture("llama-3.2-3b-instruct"), "tie_word_embeddings": False}, key="u")
    assert untied.params.total - p.total == p.embedding


def test_deepseek_v2_mla_without_score_correction_bias() -> None:
    # DeepSeek-V2 paper (arXiv 2405.04434): "236B total parameters, of which 21B are activated
    # for each token" (to 1B); DeepSeek-V2.5 keeps the architecture.
    model = from_fixture("deepseek-v2.5")
    p = model.params
    assert model.moe is not None and model.moe.dense_layers == 1 and not model.moe.router_bias
    assert abs(p.total - 236 * B) <= 0.5 * B
    assert abs(p.active - 21 * B) <= 0.5 * B


# ---------------------------------------------------------------------- KV cache per token
def test_llama_3_3_70b_kv_per_token(models: dict[str, ModelArch]) -> None:
    # catalog.md §4: 2 x 80 layers x 8 KV heads x 128 = 163,840 elements -> 327,680 B in BF16
    model = models["llama-3.3-70b"]
    elements = model.kv_elements_per_token()
    assert elements == model.kv_elements_per_token(131_072) == 163_840
    assert elements * BF16_BYTES == 327_680
    assert elements * FP8_BYTES == 163_840


@pytest.mark.parametrize(
    ("key", "bf16_bytes"),
    [
        ("llama-3.1-8b", 131_072),  # catalog_models.csv kv_cache_bytes_per_token_bf16
        ("llama-3.1-405b", 516_096),
        ("mixtral-8x7b", 131_072),
        ("qwen3-235b-a22b", 192_512),
        ("deepseek-v3", 70_272),  # MLA: (512 + 64) x 61 layers x 2 B
    ],
)
def test_kv_bytes_per_token_match_the_catalog(models: dict[str, ModelArch], key: str, bf16_bytes: int) -> None:
    assert models[key].kv_elements_per_token(32_768) * BF16_BYTES == bf16_bytes


def test_deepseek_v3_caches_the_mla_latent(models: dict[str, ModelArch]) -> None:
    # kv_lora_rank 512 + qk_rope_head_dim 64 per layer, 61 layers (DeepSeek-V3 config)
    model = models["deepseek-v3"]
    assert model.kv_elements_per_token_per_layer == 576
    assert model.kv_elements_per_token() == (512 + 64) * 61


def test_gpt_oss_sliding_window_layers_are_averaged_over_the_sequence(models: dict[str, ModelArch]) -> None:
    # gpt-oss-120b config: 36 layers alternating sliding (128 tokens) and full attention,
    # 8 KV heads x 64 dims: 1,024 elements per token per layer.
    model = models["gpt-oss-120b"]
    assert model.sliding_window == 128 and model.sliding_window_layers == 18
    per_layer = 2 * 8 * 64
    # up to the window every layer holds every token
    assert model.kv_elements_per_token(128) == 36 * per_layer
    # beyond it the sliding layers hold 128 tokens, spread over the sequence
    assert model.kv_elements_per_token(8192) == pytest.approx(per_layer * (18 + 18 * 128 / 8192))
    # catalog_models.csv: 36,864 B/token in BF16 for the 18 full layers alone
    assert model.kv_elements_per_token(1e12) * BF16_BYTES == pytest.approx(36_864, rel=1e-6)


def test_non_positive_sequence_length_is_a_usage_error(models: dict[str, ModelArch]) -> None:
    with pytest.raises(UsageError, match="sequence length must be positive"):
        models["gpt-oss-120b"].kv_elements_per_token(0)


# --------------------------------------------------------------------- attention FLOPs
def test_attention_flops_gqa(models: dict[str, ModelArch]) -> None:
    # scores q·k and the weighted sum of v: head_dim multiply-adds each per head per context
    # token, 2 FLOPs per multiply-add: 4 x 64 heads x 128 x 80 layers x 8192 tokens
    model = models["llama-3.3-70b"]
    assert model.attention_flops_per_token(8192) == 4 * 64 * 128 * 80 * 8192 == 21_474_836_480
    assert model.attention_flops_per_token(0) == 0


def test_attention_flops_mla_absorbed(models: dict[str, ModelArch]) -> None:
    # absorbed MLA decode: scores over latent + rope (512 + 64), values over the latent (512),
    # 128 heads, 61 layers
    model = models["deepseek-v3"]
    assert model.attention_flops_per_token(4096) == 2 * 128 * (512 + 64 + 512) * 61 * 4096


def test_attention_flops_sliding_window_caps_the_context(models: dict[str, ModelArch]) -> None:
    model = models["gpt-oss-120b"]
    full = 4 * 64 * 64  # FLOPs per layer per context token
    assert model.attention_flops_per_token(100) == full * 36 * 100
    assert model.attention_flops_per_token(8192) == full * (18 * 8192 + 18 * 128)


# ------------------------------------------------------------------- registry lookups
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b"),
        ("LLAMA-3.3-70B", "llama-3.3-70b"),
        ("Llama 3.3 70B Instruct", "llama-3.3-70b"),
        ("deepseek-ai/DeepSeek-V3", "deepseek-v3"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
        ("Qwen/Qwen3-235B-A22B", "qwen3-235b-a22b"),
    ],
)
def test_registry_resolves_keys_names_and_hf_ids(models_only_catalog: Catalog, name: str, key: str) -> None:
    assert models_only_catalog.models.resolve(name) == key
    assert models_only_catalog.models.owner(key) == "blackwell_decide.builtin.models"


def test_unknown_model_suggests_the_nearest_key(models_only_catalog: Catalog) -> None:
    with pytest.raises(UnknownKeyError, match=re.escape("llama-3.3-70b")):
        models_only_catalog.models.get("llama-3.3-70")


# ------------------------------------------------------------- loading config.json files
def write(tmp_path: Path, config: Any, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config) if not isinstance(config, str) else config)
    return path


def test_load_model_config_reads_a_file_or_a_checkpoint_folder(tmp_path: Path) -> None:
    folder = tmp_path / "Llama-3.3-70B-Instruct"
    folder.mkdir()
    write(folder, fixture("llama-3.3-70b"))
    from_folder = load_model_config(folder)
    from_file = load_model_config(folder / "config.json", key="mine")
    assert from_folder.key == "llama-3.3-70b-instruct"
    assert from_file.key == "mine"
    assert from_folder.params.total == from_file.params.total == 70_553_706_496
    assert from_file.sources["config"].url == str(folder / "config.json")


def test_missing_hidden_size_names_the_field_and_the_file(tmp_path: Path) -> None:
    config = fixture("llama-3.3-70b")
    del config["hidden_size"]
    path = write(tmp_path, config)
    with pytest.raises(HFConfigError) as caught:
        load_model_config(path)
    message = str(caught.value)
    assert caught.value.field == "hidden_size"
    assert message == (
        f"model config {path}: hidden_size: missing required field (also accepted: 'n_embd', 'd_model'); "
        "copy it from the model's config.json on Hugging Face"
    )
    assert isinstance(caught.value, UsageError)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"num_hidden_layers": "eighty"}, "num_hidden_layers", "expected a number, got the string 'eighty'"),
        ({"num_attention_heads": 0}, "num_attention_heads", "at least 1"),
        ({"num_key_value_heads": 7}, "num_key_value_heads", "multiple of"),
        ({"tie_word_embeddings": "no"}, "tie_word_embeddings", "true or false"),
        ({"vocab_size": True}, "vocab_size", "expected a number, got the boolean true"),
        ({"num_hidden_layers": 80.5}, "num_hidden_layers", "must be a whole number, got 80.5"),
        ({"layer_types": ["full_attention"]}, "layer_types", "lists 1 layers"),
    ],
)
def test_invalid_fields_name_the_field(tmp_path: Path, change: dict[str, Any], field: str, fragment: str) -> None:
    path = write(tmp_path, {**fixture("llama-3.3-70b"), **change})
    with pytest.raises(HFConfigError, match=fragment) as caught:
        load_model_config(path)
    assert caught.value.field == field


def test_moe_without_experts_per_token_names_the_field() -> None:
    config = fixture("mixtral-8x7b")
    del config["num_experts_per_tok"]
    with pytest.raises(HFConfigError, match="num_experts_per_tok") as caught:
        ModelArch.from_hf_config(config, key="broken")
    assert caught.value.field == "num_experts_per_tok"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not valid JSON"), ("[1, 2]", "not an object")],
)
def test_unreadable_config_files_are_usage_errors(tmp_path: Path, content: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        load_model_config(write(tmp_path, content))


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_model_config(tmp_path / "nowhere" / "config.json")


def test_defaults_head_dim_kv_heads_and_unknown_fields() -> None:
    """head_dim defaults to hidden / heads, KV heads to the attention heads; unknown fields are
    ignored and an unknown family still loads, with notes saying what was assumed."""
    config = {
        "model_type": "someday_lm",
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 4,
        "num_attention_heads": 16,
        "vocab_size": 1000,
        "brand_new_field": {"anything": [1, 2, 3]},
    }
    model = ModelArch.from_hf_config(config, key="someday")
    assert model.head_dim == 64 and model.num_kv_heads == 16
    assert model.tie_word_embeddings  # the transformers PretrainedConfig default
    assert any("tie_word_embeddings not given" in note for note in model.notes)
    assert any("not one of the families" in note for note in model.notes)


def test_multimodal_config_reads_text_config() -> None:
    nested = {"model_type": "llava_like", "text_config": fixture("llama-3.1-8b"), "vision_config": {"depth": 2}}
    model = ModelArch.from_hf_config(nested, key="mm")
    assert model.params.total == 8_030_261_248
    assert any("text_config" in note for note in model.notes)


def test_qwen3_moe_dense_layers_from_mlp_only_layers() -> None:
    config = {**fixture("qwen3-235b-a22b"), "mlp_only_layers": [0, 1]}
    model = ModelArch.from_hf_config(config, key="q")
    assert model.moe is not None and model.moe.dense_layers == 2
    dense_mlp = 3 * 4096 * 12288  # intermediate_size is the dense width
    moe_mlp = 128 * 3 * 4096 * 1536 + 4096 * 128  # experts and router
    assert model.params.total - from_fixture("qwen3-235b-a22b").params.total == 2 * (dense_mlp - moe_mlp)


def test_mistral_sliding_window_applies_to_every_layer() -> None:
    config = {**fixture("mixtral-8x7b"), "sliding_window": 4096}
    model = ModelArch.from_hf_config(config, key="m")
    assert model.sliding_window == 4096 and model.sliding_window_layers == 32
