"""Result value objects: every number with its formula, inputs and each input's source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from blackwell_decide.model import Conventions, Deployment, Source


@attrs.frozen
class Input:
    """One substituted input of a formula."""

    symbol: str
    description: str
    value: float
    unit: str
    source: Source | None = None
    derived_from: str | None = None  # name of the derivation that produced it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "symbol": self.symbol,
            "description": self.description,
            "value": self.value,
            "unit": self.unit,
        }
        if self.derived_from:
            out["derived_from"] = self.derived_from
        if self.source is not None:
            out["source"] = {
                "url": self.source.url,
                "date": self.source.date,
                "kind": self.source.kind.value,
                **({"note": self.source.note} if self.source.note else {}),
            }
        return out


@attrs.frozen
class Derived:
    """A computed quantity: ``value`` in ``unit``, from ``formula`` with ``inputs``."""

    name: str
    description: str
    value: float
    unit: str
    formula: str
    latex: str
    inputs: tuple[Input, ...] = attrs.field()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "formula": self.formula,
            "latex": self.latex,
            "inputs": [i.to_dict() for i in self.inputs],
            "value": self.value,
            "unit": self.unit,
        }


@attrs.frozen
class Bounds:
    """The physical bounds of one deployment under stated conventions."""

    deployment: Deployment
    conventions: Conventions
    derivations: Mapping[str, Derived] = attrs.field()
    assumptions: tuple[str, ...] = attrs.field()
    seq_lens: tuple[int, ...] = attrs.field()
    prefill_utilization: float = 0.75
    prompt_tokens: int = 8192  # the prompt length of the prefill ceiling

    def value(self, name: str) -> float:
        return self.derivations[name].value

    def __getitem__(self, name: str) -> Derived:
        return self.derivations[name]

    @property
    def decode_floor_s(self) -> float:
        return self.value("decode_floor_s")

    @property
    def per_user_ceiling_tok_s(self) -> float:
        return self.value("per_user_ceiling_tok_s")

    def concurrency_at(self, seq_len: int) -> float:
        return self.value(f"concurrency_at_{seq_len}")

    @property
    def kv_room_bytes(self) -> float:
        """The KV room per GPU: what the engine's memory settings leave (the physical reading
        under ``KvRoomBasis.PHYSICAL``). Every layer reads this one figure."""
        return self.value("kv_budget_bytes")

    @property
    def kv_tokens(self) -> float:
        """Tokens the KV room holds across the tensor-parallel group."""
        return self.value("kv_tokens")

    @property
    def kv_room_physical_bytes(self) -> float:
        """The physical upper bound of the KV room per GPU: capacity less the resident bytes."""
        return self.value("kv_room_physical_bytes")

    @property
    def kv_tokens_physical(self) -> float:
        return self.value("kv_tokens_physical")

    def to_dict(self) -> dict[str, Any]:
        """The ``bounds --json`` document: headline numbers, then assumptions and derivations."""
        d = self.deployment
        v = self.value
        return {
            "deployment": {
                "model": d.model.key,
                "gpu": d.accelerator.key,
                "weights": d.scheme.weights.key,
                "non_expert_weights": d.scheme.dense_weights.key,
                "kv": d.scheme.kv_cache.key,
                "embeddings": d.scheme.embeddings.key,
                "activations": d.scheme.activations.key,
                "tp": d.tp,
                "engine": d.engine,
                "memory_fraction": d.memory_fraction,
                "kv_room_basis": self.conventions.kv_room.value,
                "compute_format": d.compute_format,
                "weight_only": d.weight_only,
            },
            "decode_floor_ms": v("decode_floor_s") * 1e3,
            "per_user_ceiling_tok_s": v("per_user_ceiling_tok_s"),
            "streamed_bytes": v("streamed_bytes"),
            "resident_bytes": v("resident_bytes"),
            "kv_bytes_per_token": v("kv_bytes_per_token"),
            "kv_budget_bytes": v("kv_budget_bytes"),
            "kv_tokens": v("kv_tokens"),
            "kv_room_physical_bytes": v("kv_room_physical_bytes"),
            "kv_tokens_physical": v("kv_tokens_physical"),
            "concurrency": {str(L): v(f"concurrency_at_{L}") for L in self.seq_lens},
            "ridge_flops_per_byte": v("ridge_flops_per_byte"),
            "decode_intensity_flops_per_byte": v("decode_intensity"),
            "decode_fraction_of_peak": v("decode_fraction_of_peak"),
            "prefill_utilization": self.prefill_utilization,
            "prefill_prompt_tokens": self.prompt_tokens,
            "prefill_ceiling_tok_s": v("prefill_ceiling_tok_s"),
            "prefill_ceiling_tok_s_per_gpu": v("prefill_ceiling_tok_s") / d.tp,
            "assumptions": list(self.assumptions),
            "derivations": [x.to_dict() for x in self.derivations.values()],
        }


@attrs.frozen
class SpeedupTerm:
    name: str  # "bandwidth", "footprint", "parallelism", …
    value: float
    formula: str
    latex: str


@attrs.frozen
class Speedup:
    """How much lower the candidate's decode floor is than the baseline's, factorised."""

    baseline: Bounds
    candidate: Bounds
    value: float
    formula: str
    latex: str
    terms: tuple[SpeedupTerm, ...] = attrs.field()

    def term(self, name: str) -> SpeedupTerm:
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "speedup": self.value,
            "formula": self.formula,
            "latex": self.latex,
            "terms": [attrs.asdict(t) for t in self.terms],
        }
