"""The step-time physics of serving, vectorised over concurrency.

One decode step at concurrency B with mean context L runs the matmuls, which stream the weights
once (for a mixture of experts, the experts B tokens route to) overlapped with 2 FLOPs per
multiplied parameter per token, then the attention, which streams B·L tokens of KV cache
overlapped with its score and value products. Kernels run one after another, so the two add,
each the smooth maximum of its memory and compute times at achieved efficiencies. On top come
overheads: a fixed part per step, a latency floor per layer, two all-reduces per layer under
tensor parallelism (each at least what the interconnect was measured to take), and, when
serving online clients, host time per running request (each token is detokenised and
streamed). Prefill shares the GPU under chunked prefill: arriving prompts take GPU time that
stretches every running request's step. The closed loop of B clients (each sends
its next request when the previous one completes) is solved exactly for the request rate (a
quadratic); clients beyond what the KV cache holds under the engine's memory settings wait.

Everything is SI and per GPU; tensor-parallel shards divide weights, KV (down to one KV head per
rank) and FLOPs. No prediction beats :func:`decode_floor`, the physical bound at its batch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.perf import _shape_arrays as _shapes
from blackwell_decide.perf._step_arrays import StepFigures, StepInputs, solve_steps
from blackwell_decide.perf.profile import CalibrationProfile, EngineSettings
from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.bounds.comm import AllReduceCost
    from blackwell_decide.model import Deployment, ModelArch

FloatArray = NDArray[np.float64]

BINDINGS: tuple[str, ...] = ("memory-bandwidth", "compute", "step-overhead", "kv-capacity")


@attrs.frozen
class DeploymentTerms:
    """Per-GPU constants of one deployment that the step model needs."""

    label: str
    accelerator: str
    family: str
    model: ModelArch
    tp: int
    layers: int
    hidden: int
    bandwidth: float  # B/s per GPU
    peak_flops: float  # dense FLOP/s of the format the matmuls run in
    attention_peak_flops: float  # dense FLOP/s of the format attention runs in
    allreduces_per_step: int  # tensor-parallel all-reduces per step (two per layer)
    allreduce: AllReduceCost  # measured all-reduce figures of the interconnect at this tp
    dense_weight_bytes: float  # streamed every step whatever the batch, per GPU
    expert_bytes: float  # per routed expert (all MoE layers), per GPU
    num_experts: int
    experts_per_token: int
    linear_flops_per_token: float  # per GPU
    prefill_matmul_s: float  # per prompt token per GPU at peak: each linear layer at its format's peak
    prefill_lm_head_s: float  # per prompt per GPU at peak (the last token's logits)
    resident_weight_bytes: float  # per GPU
    memory_bytes: float  # per GPU, device-reported
    kv_bytes_per_element: float
    kv_split: float  # ranks that share one copy of the KV cache
    low_bit: bool  # weights stored in 4 bits or fewer
    floor_batch1_s: float  # the bounds engine's decode floor at batch 1

    def kv_bytes_per_token(self, context: float) -> float:
        """KV bytes per cached token on one GPU (sliding windows averaged over ``context``)."""
        return self.model.kv_elements_per_token(context) * self.kv_bytes_per_element / self.kv_split

    def attention_flops_per_token(self, context: float) -> float:
        return self.model.attention_flops_per_token(context) / self.tp

    def streamed_weight_bytes(self, batch: FloatArray) -> FloatArray:
        """Weight bytes read per step at ``batch`` tokens: every dense weight once, and for a
        mixture of experts the expected number of distinct experts that many tokens route to."""
        if not self.num_experts:
            return np.full_like(batch, self.dense_weight_bytes)
        e, k = float(self.num_experts), float(self.experts_per_token)
        distinct = e * (1.0 - (1.0 - k / e) ** np.maximum(batch, 1.0))
        return self.dense_weight_bytes + self.expert_bytes * distinct


def deployment_terms(deployment: Deployment) -> DeploymentTerms:
    """The constants of ``deployment``, with streamed bytes, resident bytes and the batch-1 floor
    taken from the bounds engine so both layers count bytes the same way."""
    from blackwell_decide.bounds import compute_bounds, kv_replication
    from blackwell_decide.bounds.comm import allreduce_cost, allreduces_per_step
    from blackwell_decide.bounds.prefill import attention_format, prefill_work
    from blackwell_decide.model import Conventions, KvRoomBasis

    # The KV room comes from the engine settings of each call (kv_budget_bytes), so the terms
    # hold only what does not depend on them: weights fitting physically is all they need.
    conventions = Conventions(kv_room=KvRoomBasis.PHYSICAL)
    bounds = compute_bounds(deployment, conventions, seq_lens=(8192,))
    arch, acc, scheme = deployment.model, deployment.accelerator, deployment.scheme
    p = arch.params
    tp = deployment.tp
    streamed_batch1 = bounds.value("streamed_bytes") / tp
    moe = arch.moe
    expert_bytes = 0.0
    if moe is not None and moe.num_experts > moe.experts_per_token:
        routed = getattr(p, "routed_expert", 0) or (p.linear - p.linear_active) * moe.num_experts / (
            moe.num_experts - moe.experts_per_token
        )
        expert_bytes = routed / moe.num_experts * scheme.weights.bytes_per_param / tp
    dense_bytes = streamed_batch1 - (expert_bytes * moe.experts_per_token if moe is not None else 0.0)
    compute_format = deployment.compute_format
    peak = acc.peak_flops(compute_format)
    work = prefill_work(deployment)
    return DeploymentTerms(
        label=deployment.label,
        accelerator=acc.key,
        family=acc.family,
        model=arch,
        tp=tp,
        layers=arch.num_layers,
        hidden=arch.hidden_size,
        bandwidth=acc.hbm_bandwidth,
        peak_flops=peak,
        attention_peak_flops=acc.peak_flops(attention_format(deployment)),
        allreduces_per_step=allreduces_per_step(arch.num_layers) if tp > 1 else 0,
        allreduce=allreduce_cost(acc, tp),
        dense_weight_bytes=dense_bytes,
        expert_bytes=expert_bytes,
        num_experts=moe.num_experts if moe is not None else 0,
        experts_per_token=moe.experts_per_token if moe is not None else 0,
        linear_flops_per_token=2.0 * p.compute_active / tp,
        prefill_matmul_s=(
            work.expert_flops / acc.peak_flops(work.expert_format)
            + work.dense_flops / acc.peak_flops(work.dense_format)
        )
        / tp,
        prefill_lm_head_s=work.lm_head_flops / acc.peak_flops(work.lm_head_format) / tp,
        resident_weight_bytes=bounds.value("weight_bytes_per_gpu"),
        memory_bytes=acc.memory_bytes,
        kv_bytes_per_element=scheme.kv_cache.bytes_per_param,
        kv_split=tp / kv_replication(deployment),
        low_bit=scheme.weights.element_bits <= 4,
        floor_batch1_s=bounds.value("decode_floor_s"),
    )


# ------------------------------------------------------------------------------ the step model
@attrs.frozen
class StepResult:
    """Arrays over the requested concurrencies (all per GPU unless said otherwise)."""

    concurrency: FloatArray  # requested
    running: FloatArray  # in the batch (≤ KV capacity)
    tpot_s: FloatArray
    ttft_s: FloatArray
    requests_per_s: FloatArray  # whole deployment
    output_tok_s_per_gpu: FloatArray
    floor_s: FloatArray  # physical decode floor at the running batch
    memory_s: FloatArray
    compute_s: FloatArray
    overhead_s: FloatArray
    prefill_s: FloatArray  # prefill's share of each step
    binding: tuple[str, ...]
    kv_capacity: float  # requests the KV cache holds under the engine's settings
    kv_tokens: float


def kv_budget_bytes(terms: DeploymentTerms, settings: EngineSettings) -> float:
    """Bytes per GPU the engine's memory settings leave for the KV cache (never negative): the
    bounds' KV room (:func:`blackwell_decide.bounds.kv_room.kv_room_bytes`), one formula for both."""
    from blackwell_decide.bounds.kv_room import kv_room_bytes

    budget = kv_room_bytes(
        settings.memory_fraction,
        settings.memory_basis,
        settings.runtime_reserve_bytes,
        terms.memory_bytes,
        terms.resident_weight_bytes,
    )
    return max(budget, 0.0)


def kv_token_capacity(terms: DeploymentTerms, settings: EngineSettings, context: float) -> float:
    """Tokens the engine's KV cache holds (each GPU holds its shard of every token)."""
    return kv_budget_bytes(terms, settings) / terms.kv_bytes_per_token(context)


def kv_request_capacity(terms: DeploymentTerms, settings: EngineSettings, workload: Workload) -> tuple[float, float]:
    """(requests, tokens) the KV cache holds for ``workload``, capped by the engine's batch limit."""
    tokens = kv_token_capacity(terms, settings, workload.decode_context)
    per_request = workload.isl + (workload.osl if settings.kv_reservation == "full" else workload.osl / 2.0)
    return min(math.floor(tokens / per_request), settings.max_batch), tokens


def decode_floor(terms: DeploymentTerms, workload: Workload, batch: FloatArray) -> FloatArray:
    """The physical decode floor per step at ``batch``: weights plus KV bytes at peak bandwidth,
    or the step's FLOPs at peak compute, whichever is longer. No engine can beat it."""
    context = workload.decode_context
    return _decode_floor(
        terms, context, terms.kv_bytes_per_token(context), terms.attention_flops_per_token(context), batch
    )


def _decode_floor(
    terms: DeploymentTerms,
    context: FloatArray | float,
    kv_per_token: FloatArray | float,
    attention_per_token: FloatArray | float,
    batch: FloatArray,
) -> FloatArray:
    bytes_read = terms.streamed_weight_bytes(batch) + batch * context * kv_per_token
    flops_time = batch * (
        terms.linear_flops_per_token / terms.peak_flops + attention_per_token / terms.attention_peak_flops
    )
    floor = np.maximum(bytes_read / terms.bandwidth, flops_time) + _allreduce_floor(terms, batch)
    return np.asarray(np.maximum(floor, terms.floor_batch1_s), dtype=np.float64)


def _allreduce_floor(terms: DeploymentTerms, tokens: FloatArray | float) -> FloatArray:
    """The all-reduces of a step of ``tokens`` hidden states (16-bit) at the measured cost of
    the interconnect (the cheaper of its algorithms): part of the physical floor."""
    from blackwell_decide.bounds.comm import ACTIVATION_BYTES

    payload = np.asarray(tokens, dtype=np.float64) * terms.hidden * ACTIVATION_BYTES
    return np.asarray(terms.allreduces_per_step * terms.allreduce.seconds_array(payload))


def _allreduce_time(terms: DeploymentTerms, profile: CalibrationProfile, tokens: FloatArray) -> FloatArray:
    """Two all-reduces of the hidden state per layer (after attention and after the MLP), each
    the measured latency of the interconnect plus the engine's own excess over it (fitted, never
    negative, so a fit cannot put an all-reduce below what the fabric was measured to take)."""
    if terms.tp == 1:
        return np.zeros_like(tokens)
    return _allreduce_floor(terms, tokens) + terms.allreduces_per_step * profile.allreduce_latency_s


def prefill_time_per_token(terms: DeploymentTerms, profile: CalibrationProfile, workload: Workload) -> float:
    """GPU time to prefill one prompt token at the prefill efficiency: each matmul at its format's
    peak, attention over the causal prompt, the lm_head's share (once per prompt) and the
    all-reduces; the same work as the bounds' prefill ceiling (bounds/prefill.py)."""
    at_peak = _prefill_at_peak(terms, workload)
    return at_peak / profile.eta_prefill + _prefill_comm(terms, workload, profile.engine_settings.chunk_tokens)


def _prefill_at_peak(terms: DeploymentTerms, workload: Workload) -> float:
    from blackwell_decide.bounds.prefill import causal_attention_flops_per_token

    attention_flops = causal_attention_flops_per_token(terms.model, workload.isl) / terms.tp
    attention_s = attention_flops / terms.attention_peak_flops
    return terms.prefill_matmul_s + attention_s + terms.prefill_lm_head_s / workload.isl


def _prefill_comm(terms: DeploymentTerms, workload: Workload, chunk_tokens: int) -> float:
    if terms.tp == 1:
        return 0.0
    # prefill reduces a whole chunk at once: the per-token share of a chunk's all-reduces
    chunk = float(min(workload.isl, chunk_tokens))
    return float(_allreduce_floor(terms, chunk)) / chunk


def step_inputs(
    terms: DeploymentTerms,
    settings: EngineSettings,
    workload: Workload,
    concurrency: FloatArray,
    *,
    online: bool = True,
    prefill_tokens: float | None = None,
) -> StepInputs:
    """What a step of ``concurrency`` clients of ``workload`` needs that no fitted figure changes
    (see :mod:`blackwell_decide.perf._step_arrays`): worked out once, solved for any profile."""
    requested = np.asarray(concurrency, dtype=np.float64)
    prefilled = float(workload.isl if prefill_tokens is None else prefill_tokens)
    return shape_step_inputs(
        terms,
        settings,
        np.full(requested.shape, float(workload.isl)),
        np.full(requested.shape, float(workload.osl)),
        requested,
        online=online,
        prefilled=np.full(requested.shape, prefilled),
    )


def shape_step_inputs(
    terms: DeploymentTerms,
    settings: EngineSettings,
    isl: FloatArray,
    osl: FloatArray,
    concurrency: FloatArray,
    *,
    online: bool = True,
    prefilled: FloatArray | None = None,
) -> StepInputs:
    """:func:`step_inputs` for one deployment and engine at any number of operating points, each
    with its own input and output length (arrays of one shape; ``prefilled`` prompt tokens per
    request default to all of ``isl``)."""
    requested = np.asarray(concurrency, dtype=np.float64)
    isl = np.asarray(isl, dtype=np.float64)
    osl = np.asarray(osl, dtype=np.float64)
    prefilled = isl if prefilled is None else np.asarray(prefilled, dtype=np.float64)
    context = isl + osl / 2.0  # Workload.decode_context
    kv_per_token = _shapes.kv_elements_per_token(terms.model, context) * terms.kv_bytes_per_element / terms.kv_split
    attention_per_token = _shapes.attention_flops_per_token(terms.model, context) / terms.tp
    # kv_request_capacity, per point
    tokens = kv_budget_bytes(terms, settings) / kv_per_token
    per_request = isl + (osl if settings.kv_reservation == "full" else osl / 2.0)
    capacity = np.minimum(np.floor(tokens / per_request), float(settings.max_batch))
    running = np.minimum(requested, np.maximum(capacity, 1.0))
    chunk = np.minimum(isl, float(settings.chunk_tokens))
    comm = np.zeros_like(isl) if terms.tp == 1 else _allreduce_floor(terms, chunk) / chunk
    attention_prefill = _shapes.causal_attention_flops_per_token(terms.model, isl) / terms.tp
    at_peak = terms.prefill_matmul_s + attention_prefill / terms.attention_peak_flops + terms.prefill_lm_head_s / isl

    def full(value: float) -> FloatArray:
        return np.full(requested.shape, float(value))

    return StepInputs(
        requested=requested,
        running=running,
        capacity=capacity,
        kv_tokens=tokens,
        isl=isl,
        osl=osl,
        tp=full(terms.tp),
        prefilled=prefilled,
        chunk_tokens=full(settings.chunk_tokens),
        chunks=np.maximum(np.ceil(prefilled / settings.chunk_tokens), 1.0),
        weight_bytes=terms.streamed_weight_bytes(running),
        kv_bytes=running * context * kv_per_token,
        matmul_flops=running * terms.linear_flops_per_token,
        attention_flops=running * attention_per_token,
        bandwidth=full(terms.bandwidth),
        peak_flops=full(terms.peak_flops),
        attention_peak_flops=full(terms.attention_peak_flops),
        low_bit=np.full(requested.shape, terms.low_bit),
        layers=full(terms.layers),
        allreduces=full(terms.allreduces_per_step),
        allreduce_floor=_allreduce_floor(terms, running),
        prefill_at_peak_s=at_peak,
        prefill_comm_s=comm,
        floor_s=_decode_floor(terms, context, kv_per_token, attention_per_token, running),
        online=np.full(requested.shape, online),
    )


def simulate(
    terms: DeploymentTerms,
    profile: CalibrationProfile,
    workload: Workload,
    concurrency: FloatArray,
    *,
    online: bool = True,
    prefill_tokens: float | None = None,
) -> StepResult:
    """Steady state of ``concurrency`` closed-loop clients (arrays in, arrays out). ``online``
    clients receive every token streamed over the serving API, which costs host time per running
    request per step; ``online=False`` is an offline engine benchmark (every request queued in
    the engine itself, as ``trtllm-bench`` runs). ``prefill_tokens``: prompt tokens prefilled
    per request (fewer than ``workload.isl`` with a prefix cache; default all of them). The
    arithmetic is :func:`~blackwell_decide.perf._step_arrays.solve_steps`, which takes any
    number of deployments and workloads at once."""
    settings = profile.engine_settings
    inputs = step_inputs(terms, settings, workload, concurrency, online=online, prefill_tokens=prefill_tokens)
    # the KV cache holds the same for every point of one workload
    capacity, kv_tokens = (
        (float(inputs.capacity.flat[0]), float(inputs.kv_tokens.flat[0]))
        if inputs.size
        else kv_request_capacity(terms, settings, workload)
    )
    out = solve_steps(inputs, StepFigures.of(profile))
    prefill_share_s = out.tpot_s - out.decode_s
    binding = _binding(inputs.requested, capacity, out.memory_s, out.compute_s + prefill_share_s, out.overhead_s)
    return StepResult(
        concurrency=inputs.requested,
        running=inputs.running,
        tpot_s=out.tpot_s,
        ttft_s=out.ttft_s,
        requests_per_s=out.requests_per_s,
        output_tok_s_per_gpu=out.output_tok_s_per_gpu,
        floor_s=inputs.floor_s,
        memory_s=out.memory_s,
        compute_s=out.compute_s,
        overhead_s=out.overhead_s,
        prefill_s=prefill_share_s,
        binding=binding,
        kv_capacity=float(capacity),
        kv_tokens=float(kv_tokens),
    )


def _binding(
    requested: FloatArray, capacity: float, memory: FloatArray, compute: FloatArray, overhead: FloatArray
) -> tuple[str, ...]:
    stacked = np.vstack([memory, compute, overhead])
    names = np.array(BINDINGS[:3])[np.argmax(stacked, axis=0)]
    names = np.where(requested > capacity, BINDINGS[3], names)
    return tuple(names.tolist())
