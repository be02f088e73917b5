"""Which catalog model a checkpoint id names: organisation prefixes, quantisation and tuning
suffixes, and fine-tunes whose name contains a catalog model are all read as that model."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

#: Trailing parts of a checkpoint name that say how it was quantised or tuned, not which model
#: it is (``nvidia/Llama-3.3-70B-Instruct-FP4`` is Llama 3.3 70B).
_CHECKPOINT_SUFFIXES = re.compile(
    r"(?:[-_.](?:instruct|chat|hf|fp8|fp4|nvfp4|mxfp4|int4|int8|awq|gptq|w4a16|w8a8|w4a8|dynamic|quantized|it|"
    r"bf16|fp16|kv|static))+$"
)
#: Quantisation named in a checkpoint id, longest first, and the format key it means.
_QUANT_IN_NAME: tuple[tuple[str, str], ...] = (
    ("nvfp4", "nvfp4"),
    ("mxfp4", "mxfp4"),
    ("fp4", "nvfp4"),
    ("fp8", "fp8"),
    ("w8a8", "int8"),
    ("int8", "int8"),
    ("awq", "int4-awq"),
)


#: Checkpoints published under another name than the catalog model whose architecture they
#: share: stem -> (catalog key, why). Their config.json files give the same layer shapes.
_DERIVATIVES: dict[str, tuple[str, str]] = {
    "deepseek-r1": (
        "deepseek-v3",
        "DeepSeek-R1 is post-trained from DeepSeek-V3-Base with the same architecture "
        "(https://huggingface.co/deepseek-ai/DeepSeek-R1, model card)",
    ),
    "deepseek-v3.1": (
        "deepseek-v3",
        "DeepSeek-V3.1 keeps DeepSeek-V3's architecture (https://huggingface.co/deepseek-ai/DeepSeek-V3.1, model card)",
    ),
}


@attrs.frozen
class ModelMatch:
    """A catalog model key for a checkpoint id, and how it was found (empty when exact)."""

    key: str
    note: str = ""


def checkpoint_stem(name: str) -> str:
    """A checkpoint or Hugging Face id without its organisation, its quantisation and tuning
    suffixes, and a leading ``meta-`` (``meta-llama/Meta-Llama-3.1-70B-Instruct`` ->
    ``llama-3.1-70b``)."""
    stem = name.strip().lower().rsplit("/", 1)[-1]
    stem = _CHECKPOINT_SUFFIXES.sub("", stem)
    return stem.removeprefix("meta-")


def weights_in_name(checkpoint: str) -> str | None:
    """The weight format a checkpoint id names (``...-FP8-dynamic`` -> fp8), or None."""
    parts = re.split(r"[-_./]", checkpoint.lower())
    for needle, key in _QUANT_IN_NAME:
        if needle in parts:
            return key
    return None


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` occurs in ``haystack`` as whole dash- or underscore-separated parts."""
    return re.search(rf"(?:^|[-_]){re.escape(needle)}(?:$|[-_])", haystack) is not None


def match_catalog_model(checkpoint: str, catalog: Catalog, *, where: str = "model") -> ModelMatch:
    """The catalog model a checkpoint id names: a catalog key itself; the one model whose Hugging
    Face id or key has the same stem; or, for a fine-tune, the one model whose stem appears whole
    in the checkpoint's name (``org/gpt-oss-120b-medical-SFT-v0.1`` -> gpt-oss-120b, with a note:
    a fine-tune keeps its base model's architecture). UsageError saying to pass ``--model KEY``
    when none, or several, match."""
    models = catalog.models
    if checkpoint in models:
        return ModelMatch(models.get(checkpoint).key)
    stem = checkpoint_stem(checkpoint)
    stems = {m.key: {s for s in (checkpoint_stem(m.hf_id), checkpoint_stem(m.key)) if s} for m in models.values()}
    exact = sorted(key for key, own in stems.items() if stem and stem in own)
    if len(exact) == 1:
        return ModelMatch(exact[0])
    for name, (key, why) in _DERIVATIVES.items():
        if not exact and key in models and (stem == name or _contains(stem, name)):
            return ModelMatch(
                models.get(key).key,
                f"{where} {checkpoint!r} read as {key}: {why}; pass --model {key} to confirm "
                "or --model KEY to override",
            )
    contained: dict[str, int] = {}
    if not exact:
        for key, own in stems.items():
            longest = max((len(s) for s in own if _contains(stem, s)), default=0)
            if longest:
                contained[key] = longest
    if contained:
        best = max(contained.values())
        found = sorted(k for k, n in contained.items() if n == best)
        if len(found) == 1:
            return ModelMatch(
                found[0],
                f"{where} {checkpoint!r} is not a catalog model but its name contains {found[0]}: read as a "
                f"fine-tune of it (same architecture, so the same bounds); pass --model {found[0]} to confirm "
                "or --model KEY to override",
            )
        exact = found
    known = ", ".join(sorted(m.key for m in models.values()))
    which = f"matches several catalog models ({', '.join(exact)})" if exact else "matches no catalog model"
    raise UsageError(
        f"{where} {checkpoint!r} {which}; pass --model KEY with the catalog model it is a checkpoint of "
        f"(one of {known})"
    )


def catalog_model_for(checkpoint: str, catalog: Catalog, *, where: str = "model") -> str:
    """The catalog model key :func:`match_catalog_model` finds for ``checkpoint``."""
    return match_catalog_model(checkpoint, catalog, where=where).key
