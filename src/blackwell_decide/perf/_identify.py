"""Which calibration figures a set of measurements can pin down, and when the data are too sparse
for a full fit (see :mod:`blackwell_decide.perf.fit`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from blackwell_decide.perf.measurement import Measurement
from blackwell_decide.perf.physics import DeploymentTerms

#: Prefill efficiency is identifiable only from rows whose prompts are at least this many times
#: their output: at 1k/1k a prompt's prefill is 5-15 % of the measured TTFT (the rest is queueing
#: and the scheduler's streaming and batch waiting) and a few per cent of the GPU time, so TTFT
#: there pins the queueing terms, not the prefill efficiency.
PREFILL_HEAVY_RATIO = 2.0
#: Fewer points than this, or fewer distinct operating points (concurrency and workload shape),
#: and the data cannot tell the figures apart: a sparse fit frees only :data:`SPARSE_FREE` (and
#: :data:`SPARSE_TTFT_FREE` where TTFT is measured) and keeps every other figure at the starting
#: profile's value (the shipped profile of the engine and family, used as a prior).
MIN_POINTS_FOR_FULL_FIT = 8
MIN_OPERATING_POINTS_FOR_FULL_FIT = 3
#: One point pins one decode figure: the per-layer latency, the time every step pays whatever
#: the batch, scales the predicted TPOT without bending its shape against concurrency.
SPARSE_FREE = ("layer_overhead_s",)
#: And one TTFT figure: the fixed time outside the GPU, which shifts TTFT at every load alike.
SPARSE_TTFT_FREE = ("ttft_overhead_s",)


def identifiable(measurements: Sequence[Measurement], terms_of: Callable[[Measurement], DeploymentTerms]) -> list[str]:
    """The parameters these measurements can pin down (see the module docstring)."""
    free = ["eta_bw", "layer_overhead_s"]
    if any(m.workload.isl >= PREFILL_HEAVY_RATIO * m.workload.osl for m in measurements):
        free.append("eta_prefill")
    if any(m.concurrency is None for m in measurements):
        free.append("eta_compute")  # only offline maximum-throughput runs reach compute-bound decode
    if any(m.concurrency is not None for m in measurements):
        free.append("stream_overhead_s")
    if {terms_of(m).low_bit for m in measurements} == {True, False}:
        free += ["low_bit_bw_factor", "low_bit_layer_overhead_s"]
    tps = {m.tp for m in measurements}
    if len(tps) > 1 and max(tps) > 1:
        free.append("allreduce_latency_s")
    with_ttft = [m for m in measurements if m.ttft_s is not None]
    if with_ttft:
        free += ["ttft_overhead_s", "ttft_steps"]
        # the wave share (burst_share) is not fitted: it follows from how each benchmark ran
        # (blackwell_decide.perf.scheduling)
    return free


def sparse_reason(measurements: Sequence[Measurement]) -> str | None:
    """Why these measurements are too few for a full fit (None when they are enough)."""
    points = len(measurements)
    operating = len({(m.concurrency, m.workload.isl, m.workload.osl) for m in measurements})
    if points >= MIN_POINTS_FOR_FULL_FIT and operating >= MIN_OPERATING_POINTS_FOR_FULL_FIT:
        return None
    return (
        f"only {points} point(s) at {operating} operating point(s) (concurrency and workload shape); "
        f"a full fit needs at least {MIN_POINTS_FOR_FULL_FIT} points at {MIN_OPERATING_POINTS_FOR_FULL_FIT} "
        "operating points"
    )


def free_parameters(
    measurements: Sequence[Measurement], terms_of: Callable[[Measurement], DeploymentTerms]
) -> list[str]:
    """The parameters a fit frees: every :func:`identifiable` one, or for sparse data (see
    :func:`sparse_reason`) only :data:`SPARSE_FREE` and, with TTFT data, :data:`SPARSE_TTFT_FREE`."""
    if sparse_reason(measurements) is None:
        return identifiable(measurements, terms_of)
    with_ttft = any(m.ttft_s is not None for m in measurements)
    return [*SPARSE_FREE, *(SPARSE_TTFT_FREE if with_ttft else ())]
