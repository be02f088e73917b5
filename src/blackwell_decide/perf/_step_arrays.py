"""The step model's arithmetic over arrays of operating points, any mix of deployments,
workloads and engine settings in one call.

:func:`blackwell_decide.perf.physics.step_inputs` works out, once per (deployment, engine
settings, workload, concurrencies), everything a step needs that no fitted figure changes: the
running batch, the bytes and FLOPs of a step at that batch, the physical floor. What is left
depends on a profile's figures and is plain elementwise arithmetic, done here for every point at
once: a fit's objective over all rows of its data, a curve, or 10^6 (configuration × workload)
points are each one call. Each expression keeps the order of operations of the per-deployment
formulas it replaced, so a point gives the same float in any array it is part of.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.perf.profile import CalibrationProfile

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: A fitted figure: one value for every point, or one per point.
Figure = float | FloatArray

#: Exponent of the smooth maximum of memory and compute time: 4 rounds the knee of the roofline
#: and stays within a few per cent of max() away from it (2, 4 and 8 fit the shipped data alike).
SMOOTH_MAX_ORDER = 4.0
#: Prefill share of GPU time is kept below this so the closed loop stays solvable.
MAX_PREFILL_SHARE = 0.98
#: Points solved per block: each intermediate array of a block stays in the CPU's cache (the
#: arithmetic is elementwise, so blocks give the same floats as one pass; 10^6 points solve in
#: about half the time).
SOLVE_BLOCK = 1 << 13


@attrs.frozen
class StepInputs:
    """Per operating point (one array entry each), what does not depend on fitted figures."""

    requested: FloatArray  # concurrent clients asked for
    running: FloatArray  # in the batch (≤ KV capacity)
    capacity: FloatArray  # requests the KV cache holds under the engine's settings
    kv_tokens: FloatArray  # tokens it holds
    isl: FloatArray
    osl: FloatArray
    tp: FloatArray
    prefilled: FloatArray  # prompt tokens prefilled per request
    chunk_tokens: FloatArray
    chunks: FloatArray  # prefill chunks per request, at least one
    weight_bytes: FloatArray  # streamed per step at the running batch, per GPU
    kv_bytes: FloatArray  # KV bytes read per step at the running batch, per GPU
    matmul_flops: FloatArray  # per step at the running batch, per GPU
    attention_flops: FloatArray
    bandwidth: FloatArray
    peak_flops: FloatArray
    attention_peak_flops: FloatArray
    low_bit: BoolArray
    layers: FloatArray
    allreduces: FloatArray  # tensor-parallel all-reduces per step (0 at tp 1)
    allreduce_floor: FloatArray  # measured cost of a step's all-reduces at the running batch
    prefill_at_peak_s: FloatArray  # per prompt token at peak compute
    prefill_comm_s: FloatArray  # per prompt token: its share of a chunk's all-reduces
    floor_s: FloatArray  # physical decode floor at the running batch
    online: BoolArray  # clients receive every token streamed over the serving API

    @property
    def size(self) -> int:
        return int(self.requested.size)

    def part(self, start: int, stop: int) -> StepInputs:
        """Points ``start`` to ``stop`` (views, no copies)."""
        return StepInputs(**{f.name: getattr(self, f.name)[start:stop] for f in attrs.fields(StepInputs)})


def concatenate(parts: Sequence[StepInputs]) -> StepInputs:
    """The points of ``parts`` in one set, in order."""
    return StepInputs(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in attrs.fields(StepInputs)})


@attrs.frozen
class StepFigures:
    """A profile's fitted figures, each a float or an array with one entry per point."""

    eta_bw: Figure
    eta_compute: Figure
    eta_prefill: Figure
    step_overhead_s: Figure
    layer_overhead_s: Figure
    stream_overhead_s: Figure
    allreduce_latency_s: Figure
    low_bit_bw_factor: Figure
    low_bit_layer_overhead_s: Figure
    ttft_overhead_s: Figure
    ttft_steps: Figure
    burst_share: Figure

    @classmethod
    def of(cls, profile: CalibrationProfile, *, burst_share: Figure | None = None) -> StepFigures:
        """``profile``'s figures (``burst_share`` in place of its own when given)."""
        values: dict[str, Figure] = {f.name: float(getattr(profile, f.name)) for f in attrs.fields(cls)}
        if burst_share is not None:
            values["burst_share"] = burst_share
        return cls(**values)

    @classmethod
    def stacked(cls, profiles: Sequence[CalibrationProfile], counts: Sequence[int]) -> StepFigures:
        """Per-point figures: ``counts[i]`` points with ``profiles[i]``'s figures, in order."""
        return cls(
            **{
                f.name: np.concatenate(
                    [np.full(n, float(getattr(p, f.name))) for p, n in zip(profiles, counts, strict=True)]
                )
                for f in attrs.fields(cls)
            }
        )

    def part(self, start: int, stop: int) -> StepFigures:
        """The figures of points ``start`` to ``stop`` (a float stays a float)."""
        return StepFigures(
            **{
                f.name: value if isinstance(value := getattr(self, f.name), float) else value[start:stop]
                for f in attrs.fields(StepFigures)
            }
        )


@attrs.frozen
class StepArrays:
    """The steady state of each point (per GPU unless said otherwise)."""

    tpot_s: FloatArray
    ttft_s: FloatArray
    requests_per_s: FloatArray  # whole deployment
    output_tok_s_per_gpu: FloatArray
    decode_s: FloatArray  # a decode step without prefill
    memory_s: FloatArray
    compute_s: FloatArray
    overhead_s: FloatArray


def _smooth_max(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray((a**SMOOTH_MAX_ORDER + b**SMOOTH_MAX_ORDER) ** (1.0 / SMOOTH_MAX_ORDER))


def decode_step(p: StepInputs, f: StepFigures) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(time, memory time, compute time, overhead) of one decode step at the running batch.

    Kernels run one after another, so the matmuls (weights streamed, overlapped with their
    FLOPs) and the attention (KV streamed, overlapped with its FLOPs) add up; each takes the
    smooth maximum of its own memory and compute times."""
    bw_factor = np.where(p.low_bit, f.low_bit_bw_factor, 1.0)
    weight_time = p.weight_bytes / (f.eta_bw * bw_factor * p.bandwidth)
    kv_time = p.kv_bytes / (f.eta_bw * p.bandwidth)
    matmul_time = p.matmul_flops / (f.eta_compute * p.peak_flops)
    attention_time = p.attention_flops / (f.eta_compute * p.attention_peak_flops)
    per_layer = f.layer_overhead_s + np.where(p.low_bit, f.low_bit_layer_overhead_s, 0.0)
    # Two all-reduces of the hidden state per layer, each the measured latency of the
    # interconnect plus the engine's own excess over it.
    allreduce = np.where(p.tp > 1, p.allreduce_floor + p.allreduces * f.allreduce_latency_s, 0.0)
    overhead = (
        f.step_overhead_s + p.layers * per_layer + np.where(p.online, p.running * f.stream_overhead_s, 0.0) + allreduce
    )
    step = _smooth_max(weight_time, matmul_time) + _smooth_max(kv_time, attention_time) + overhead
    return step, weight_time + kv_time, matmul_time + attention_time, overhead


def solve_steps(p: StepInputs, f: StepFigures) -> StepArrays:
    """The closed loop of every point's clients solved at once (see
    :func:`blackwell_decide.perf.physics.simulate` for the model)."""
    if p.size <= SOLVE_BLOCK or p.requested.ndim != 1:
        return _solve(p, f)
    blocks = [(start, min(start + SOLVE_BLOCK, p.size)) for start in range(0, p.size, SOLVE_BLOCK)]
    solved = [_solve(p.part(a, b), f.part(a, b)) for a, b in blocks]
    return StepArrays(
        **{field.name: np.concatenate([getattr(s, field.name) for s in solved]) for field in attrs.fields(StepArrays)}
    )


def _solve(p: StepInputs, f: StepFigures) -> StepArrays:
    decode, memory, compute, overhead = decode_step(p, f)

    # Own prefill of one request: its prompt's GPU time plus the steps its chunks ride on.
    per_token = p.prefill_at_peak_s / f.eta_prefill + p.prefill_comm_s
    own_prefill = p.prefilled * per_token
    prefill_latency = own_prefill + p.chunks * decode

    # Closed loop: request rate u with TPOT = decode / (1 - u·own_prefill) (prefill's share of
    # GPU time stretches every step) and u = B / (prefill latency + osl·TPOT); a quadratic in u.
    a, t_own, osl, running = own_prefill, prefill_latency, p.osl, p.running
    s = t_own + osl * decode + running * a
    disc = np.maximum(s * s - 4.0 * a * t_own * running, 0.0)
    rate = np.where(a * t_own > 0, (s - np.sqrt(disc)) / np.maximum(2.0 * a * t_own, 1e-300), running / s)
    share = np.minimum(rate * a, MAX_PREFILL_SHARE)
    # A lone client's own prefill never interrupts its own decode.
    others = np.where(running > 1, (running - 1.0) / running, 0.0)
    tpot = decode / (1.0 - share * others)

    tpot = np.maximum(tpot, p.floor_s)
    if not np.all(tpot >= p.floor_s):  # only NaN fails here: an input past what the arithmetic holds
        bad = int(np.flatnonzero(~(tpot >= p.floor_s))[0])
        raise UsageError(
            f"no finite prediction for {int(p.isl[bad]):,} input and {int(p.osl[bad]):,} output tokens on this "
            "deployment; check the workload's lengths and the accelerator's and profile's figures"
        )

    rate = running / (t_own + osl * tpot)
    # The first token reaches the client some engine steps after the prefill ends (output
    # processing, streaming and scheduling run behind the GPU).
    first_token_steps = f.ttft_steps * tpot
    # Queueing behind other prompts: M/D/1 wait at prefill utilisation `share`, plus the requests
    # that arrive in a wave (benchmarks start every client at once) queueing behind each other.
    queue = share / (2.0 * (1.0 - share)) * own_prefill
    wave = f.burst_share * np.maximum(running - 1.0, 0.0) / 2.0 * (own_prefill + p.prefilled / p.chunk_tokens * decode)
    ttft = f.ttft_overhead_s + prefill_latency + first_token_steps + queue + wave
    # Clients beyond the KV capacity wait for a slot: a full request service time per round.
    service = t_own + osl * tpot
    ttft = ttft + np.maximum(p.requested / np.maximum(running, 1.0) - 1.0, 0.0) * service
    return StepArrays(
        tpot_s=tpot,
        ttft_s=ttft,
        requests_per_s=rate,
        output_tok_s_per_gpu=rate * osl / p.tp,
        decode_s=decode,
        memory_s=memory,
        compute_s=compute,
        overhead_s=overhead,
    )
