"""Serving features that change the work per token: speculative decoding and prefix caching.

**Speculative decoding.** A drafter (an EAGLE head, a model's own multi-token-prediction (MTP)
layer, a separate small draft model, or n-gram lookup in the prompt) proposes ``k`` tokens; the
target model verifies them in one step over ``k + 1`` positions per request and emits on average
``τ`` tokens (the *acceptance length*, the bonus token included; 1 ≤ τ ≤ k + 1). Per verified
step:

- the verification streams the weights and the KV cache once, as a plain step does, but runs
  ``k + 1`` times the FLOPs: its time is the smooth maximum of the plain step's memory time and
  ``(k + 1)`` times its compute time, plus the same overheads;
- the drafter costs ``k × c`` plain steps at the same batch, where ``c`` is the *draft cost* of
  one drafted token as a fraction of a plain step: by default the drafter's share of the
  target's streamed parameters (EAGLE: one decoder layer and a 32k-token head; MTP: one decoder
  layer and the shared lm_head; n-gram: nothing; a draft model: give it, e.g. 1B / 70B);
- so TPOT = plain TPOT × (verify + k·c·step) / (τ · step). At batch 1 (memory-bound) that is
  close to plain / τ × (1 + k·c); at large batches verification turns compute-bound and the
  gain shrinks, as public benchmarks measure (datasets/speculative_decoding.json).

The plain physical decode floor stays what it is: a speculative TPOT may lie below it, never
below :func:`speculative_floor_tpot`; :func:`min_acceptance_length` says which acceptance
length a measured TPOT below the plain floor needs (for benchmark audits).

**Prefix caching.** A hit rate ``h`` means that share of each prompt's tokens is found in the
cache: only ``(1 − h) × isl`` tokens are prefilled (matmuls, attention and their chunks), so
prefill work and its part of TTFT fall by ``(1 − h)``; the KV cache still holds the whole
context.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from blackwell_decide.errors import UsageError
from blackwell_decide.perf._step_arrays import SMOOTH_MAX_ORDER

if TYPE_CHECKING:
    from blackwell_decide.model import ModelArch
    from blackwell_decide.perf.physics import DeploymentTerms, StepResult
    from blackwell_decide.perf.profile import CalibrationProfile
    from blackwell_decide.perf.workload import Workload

FloatArray = NDArray[np.float64]

DRAFT_KINDS: tuple[str, ...] = ("eagle", "mtp", "draft-model", "ngram")
#: EAGLE-3 heads predict over a reduced vocabulary of 32,000 tokens (the released EAGLE-3 draft
#: configurations, e.g. thoughtworks/GLM-4.7-Flash-Eagle3: "draft vocab 32,000").
EAGLE_DRAFT_VOCAB = 32_000


@attrs.frozen
class SpeculativeDecoding:
    """A speculative-decoding set-up: the drafter ``kind``, the mean ``acceptance_length``
    (tokens emitted per verified step, the bonus token included), ``draft_tokens`` proposed per
    step (``k``), and ``draft_cost``, the time to draft one token as a fraction of a plain
    decode step (None: the kind's default from the architecture; required for ``draft-model``)."""

    kind: str = attrs.field()
    acceptance_length: float = attrs.field()
    draft_tokens: int = attrs.field(default=3)
    draft_cost: float | None = attrs.field(default=None)

    @kind.validator
    def _check_kind(self, _: attrs.Attribute[str], value: str) -> None:
        if value not in DRAFT_KINDS:
            raise UsageError(f"unknown draft kind {value!r}: choose one of {', '.join(DRAFT_KINDS)} (--draft)")

    @draft_tokens.validator
    def _check_tokens(self, _: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
            raise UsageError(
                f"draft tokens per step must be a whole number from 1 to 64, got {value!r} (--draft-tokens)"
            )

    @acceptance_length.validator
    def _check_acceptance(self, _: attrs.Attribute[float], value: float) -> None:
        if not (np.isfinite(value) and 1.0 <= value <= self.draft_tokens + 1):
            raise UsageError(
                f"acceptance length must be from 1 to draft tokens + 1 = {self.draft_tokens + 1} tokens per verified "
                f"step, got {value!r} (--acceptance-length; raise --draft-tokens for longer acceptance)"
            )

    @draft_cost.validator
    def _check_cost(self, _: attrs.Attribute[float | None], value: float | None) -> None:
        if value is None:
            if self.kind == "draft-model":
                raise UsageError(
                    "a draft model's cost is not known from the target: give --draft-cost, the draft's "
                    "parameters over the target's (e.g. 0.015 for a 1B draft of a 70B model)"
                )
            return
        if not (np.isfinite(value) and 0.0 <= value <= 1.0):
            raise UsageError(f"draft cost must be a fraction of a plain decode step from 0 to 1, got {value!r}")

    def cost_per_token(self, model: ModelArch) -> float:
        """``c``: the time to draft one token as a fraction of a plain decode step."""
        if self.draft_cost is not None:
            return float(self.draft_cost)
        return default_draft_cost(self.kind, model)


@attrs.frozen
class ServingFeatures:
    """Deployment settings beyond the engine's defaults: speculative decoding (None: off) and
    the prefix-cache hit rate (share of prompt tokens found in the cache, 0 ≤ h < 1)."""

    speculative: SpeculativeDecoding | None = None
    prefix_cache_hit_rate: float = attrs.field(default=0.0)

    @prefix_cache_hit_rate.validator
    def _check_hit_rate(self, _: attrs.Attribute[float], value: float) -> None:
        if not (np.isfinite(value) and 0.0 <= value < 1.0):
            raise UsageError(
                f"prefix-cache hit rate must be a fraction from 0 up to (not including) 1, got {value!r} "
                "(--prefix-cache-hit-rate 0.5 for half of each prompt cached)"
            )

    @property
    def active(self) -> bool:
        return self.speculative is not None or self.prefix_cache_hit_rate > 0.0

    def describe(self) -> tuple[str, ...]:
        """One line per active feature (for notes)."""
        out = []
        if self.speculative is not None:
            s = self.speculative
            cost = "" if s.draft_cost is None else f", draft cost {s.draft_cost:g} of a step per token"
            out.append(
                f"speculative decoding: {s.kind}, {s.draft_tokens} draft tokens, "
                f"acceptance {s.acceptance_length:g}{cost}"
            )
        if self.prefix_cache_hit_rate > 0:
            out.append(f"prefix cache: {self.prefix_cache_hit_rate:.0%} of prompt tokens cached, not prefilled")
        return tuple(out)


def default_draft_cost(kind: str, model: ModelArch) -> float:
    """The drafter's share of the target's streamed parameters per drafted token (see the module
    docstring): EAGLE one decoder layer and a 32k-vocabulary head, MTP one decoder layer and the
    full lm_head, n-gram lookup nothing."""
    if kind == "ngram":
        return 0.0
    p = model.params
    streamed = float(p.linear_active + p.lm_head)
    layer = float(p.linear_active) / model.num_layers
    if kind == "eagle":
        return (layer + EAGLE_DRAFT_VOCAB * model.hidden_size) / streamed
    if kind == "mtp":
        return (layer + float(p.lm_head)) / streamed
    raise UsageError(f"draft kind {kind!r} has no default draft cost; give --draft-cost")


def prefilled_tokens(workload: Workload, features: ServingFeatures | None) -> float:
    """Prompt tokens prefilled per request after the prefix cache: (1 − h) × isl."""
    hit = 0.0 if features is None else features.prefix_cache_hit_rate
    return workload.isl * (1.0 - hit)


def prefill_work_s(
    terms: DeploymentTerms, profile: CalibrationProfile, workload: Workload, features: ServingFeatures | None
) -> float:
    """GPU seconds to prefill one request's prompt after the prefix cache (the prefilled tokens
    at the profile's per-token prefill time)."""
    from blackwell_decide.perf.physics import prefill_time_per_token

    return prefilled_tokens(workload, features) * prefill_time_per_token(terms, profile, workload)


# ------------------------------------------------------------------------------ speculative step
def _smooth_max(a: FloatArray, b: FloatArray) -> FloatArray:
    n = SMOOTH_MAX_ORDER
    return np.asarray((a**n + b**n) ** (1.0 / n), dtype=np.float64)


def tpot_factor(result: StepResult, spec: SpeculativeDecoding, model: ModelArch) -> FloatArray:
    """Speculative TPOT over plain TPOT at each point of ``result`` (below 1 where it helps)."""
    k = float(spec.draft_tokens)
    memory, compute, overhead = result.memory_s, result.compute_s, result.overhead_s
    step = _smooth_max(memory, compute) + overhead
    verify = _smooth_max(memory, (k + 1.0) * compute) + overhead
    draft = k * spec.cost_per_token(model) * step
    return np.asarray((verify + draft) / (spec.acceptance_length * step), dtype=np.float64)


def apply_speculation(
    result: StepResult, spec: SpeculativeDecoding, model: ModelArch, workload: Workload, tp: int
) -> StepResult:
    """``result`` with speculative decoding: TPOT scaled by :func:`tpot_factor`, the closed-loop
    request rate and throughput recomputed from it (each client's prefill time unchanged); the
    plain physical floor is kept as the floor, which the speculative TPOT may beat."""
    factor = tpot_factor(result, spec, model)
    tpot = result.tpot_s * factor
    osl = float(workload.osl)
    # the closed loop: rate = running / (own prefill latency + osl × TPOT); recover the prefill part
    prefill_latency = np.maximum(result.running / result.requests_per_s - osl * result.tpot_s, 0.0)
    rate = result.running / (prefill_latency + osl * tpot)
    return attrs.evolve(result, tpot_s=tpot, requests_per_s=rate, output_tok_s_per_gpu=rate * osl / tp)


def speculative_floor_tpot(
    terms: DeploymentTerms, workload: Workload, batch: ArrayLike, acceptance_length: float
) -> FloatArray:
    """A lower bound on the time per output token with speculative decoding: a verified step
    costs at least the plain physical floor at its batch (weights and KV cache read once at peak
    bandwidth, or the FLOPs at peak compute) and yields ``acceptance_length`` tokens. The
    verification's extra FLOPs and the drafter's cost are left out, so no engine can beat it."""
    from blackwell_decide.perf.physics import decode_floor

    if not (np.isfinite(acceptance_length) and acceptance_length >= 1.0):
        raise UsageError(f"acceptance length must be 1 or more tokens per verified step, got {acceptance_length!r}")
    values = np.atleast_1d(np.asarray(batch, dtype=np.float64))
    return np.asarray(decode_floor(terms, workload, values) / acceptance_length, dtype=np.float64)


def min_acceptance_length(measured_tpot_s: ArrayLike, plain_floor_tpot_s: ArrayLike) -> FloatArray:
    """The least acceptance length (tokens per verified step) that could explain a measured TPOT
    below the plain physical floor: floor / measured (1 where the measurement respects the
    floor). For ``check-bench``: a claim needs at least this much speculative decoding."""
    measured = np.asarray(measured_tpot_s, dtype=np.float64)
    floor = np.asarray(plain_floor_tpot_s, dtype=np.float64)
    if np.any(~np.isfinite(measured)) or np.any(measured <= 0):
        raise UsageError(f"measured TPOT must be positive seconds, got {measured_tpot_s!r}")
    return np.asarray(np.maximum(floor / measured, 1.0), dtype=np.float64)


# ------------------------------------------------------------------------------ cited benchmarks
SPECULATIVE_DATA = "speculative_decoding.json"


@cache
def published_speedups() -> tuple[Mapping[str, Any], ...]:
    """The public speculative-decoding measurements shipped in
    ``datasets/speculative_decoding.json`` (each with source URL and date)."""
    text = resources.files("blackwell_decide.datasets").joinpath(SPECULATIVE_DATA).read_text("utf-8")
    return tuple(json.loads(text)["measurements"])
