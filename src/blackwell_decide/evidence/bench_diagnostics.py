"""The diagnostics of a benchmark audit: whether the run reached a steady state, how it stands
against the physical floor and the calibrated expectation, and what its tails say, each with the
numbers from the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from blackwell_decide.evidence.bench_audit import BenchAudit
    from blackwell_decide.perf import Prediction
    from blackwell_decide.perf.readers.common import RunStats

#: Measured TPOT this far under the floor is not noise: the floor is a hard bound.
BELOW_FLOOR_MARGIN = 0.03
#: Measured TPOT this many times the calibrated expectation (beyond its band) is "well above".
WELL_ABOVE_FACTOR = 1.5
#: p99 (TPOT or inter-token latency) this many times the median signals stalls.
TAIL_FACTOR = 3.0
#: Mean TPOT this many times the median: a minority of requests decoded far slower.
MEAN_OVER_MEDIAN_FACTOR = 1.5
#: A run shorter than this has spent much of itself ramping up and draining.
MIN_STEADY_DURATION_S = 30.0
#: Fewer requests than this per concurrent slot: each slot cycled too few times to settle.
MIN_REQUESTS_PER_SLOT = 3.0
#: Completing fewer requests/s than this fraction of the offered rate: the server was overloaded.
OVERLOAD_FRACTION = 0.9
#: TTFT above this share of the end-to-end latency: prefill and queueing dominate the run.
TTFT_SHARE_LIMIT = 0.25


@attrs.frozen
class Diagnostic:
    level: str  # ok, info, warning
    message: str


def diagnose(a: BenchAudit, evidence: tuple[str, ...]) -> list[Diagnostic]:
    """Every diagnostic of audit ``a``; ``evidence`` is the shipped rows of the same model."""
    out = _steady_state(a)
    out += _against_bounds(a)
    out += _tails(a.stats, a.expected)
    if evidence:
        out.append(
            Diagnostic(
                "info",
                "the expectation comes from the calibrated model, not from 'floor plus a millisecond or two': "
                f"measured low-concurrency TPOTs of this model on this hardware run {_ratio_span(evidence)} their "
                "floor (see evidence below)",
            )
        )
    return out


def _steady_state(a: BenchAudit) -> list[Diagnostic]:
    """Whether the run lasted long enough, at a steady load, to compare with a steady state."""
    s, m = a.stats, a.measurement
    reasons = []
    prompts = s.num_prompts or s.completed
    if s.all_at_once:
        reasons.append(
            f"all {prompts} prompts were sent at once (unlimited request rate, no client cap below that): one prefill "
            "burst, then a batch that only shrinks"
        )
    if s.duration_s is not None and s.duration_s < MIN_STEADY_DURATION_S:
        reasons.append(
            f"the run lasted {s.duration_s:.1f} s ({s.completed} requests of {m.mean_osl:,.0f} output tokens on "
            "average), less than warm-up and drain take to stop mattering"
        )
    if m.concurrency and s.completed and s.completed / m.concurrency < MIN_REQUESTS_PER_SLOT and not s.all_at_once:
        reasons.append(
            f"{s.completed} requests over {m.concurrency:.1f} in flight: each slot served "
            f"{s.completed / m.concurrency:.1f} requests"
        )
    if s.request_rate is not None and s.duration_s and s.completed / s.duration_s < OVERLOAD_FRACTION * s.request_rate:
        reasons.append(
            f"the server completed {s.completed / s.duration_s:.2f} requests/s of the {s.request_rate:g}/s offered: it "
            "could not keep up, so requests queued and the in-flight count includes ones waiting for prefill"
        )
    if s.mean_ttft is not None and s.mean_e2e:
        share = s.mean_ttft / s.mean_e2e
        if share > TTFT_SHARE_LIMIT:
            reasons.append(
                f"TTFT is {share:.0%} of the end-to-end latency ({s.mean_ttft * 1e3:,.0f} of "
                f"{s.mean_e2e * 1e3:,.0f} ms): prefill and queueing dominate"
            )
    failed = []
    if s.failed:
        share = s.failed / (s.failed + s.completed)
        failed.append(
            Diagnostic(
                "warning",
                f"{s.failed} of {s.failed + s.completed} requests failed ({share:.0%}): the statistics cover only the "
                "ones that finished, which flatters the latencies if the failures were timeouts; see the errors in "
                "the result or the server log",
            )
        )
    if not reasons:
        return failed
    return [
        *failed,
        Diagnostic(
            "warning",
            "the run did not reach a steady state: " + "; ".join(reasons) + ". The expectation is for a "
            "steady decode batch, so read the comparison as indicative; rerun with more prompts (≥ 10 per concurrent "
            "request) at a fixed --max-concurrency or --request-rate",
        ),
    ]


def _slower_paths(weights: str) -> str:
    """Kernels an engine falls back to for ``weights`` (wider formats than the one declared)."""
    order = ("nvfp4", "mxfp4", "fp8", "bf16")
    wider = [f.upper() for f in order[order.index(weights) + 1 :]] if weights in order else []
    if not wider:
        return "a slower kernel path than expected"
    return f"{' or '.join(wider)} kernels instead of {weights.upper()} ones"


def _against_bounds(a: BenchAudit) -> list[Diagnostic]:
    """The run's mean TPOT against its physical floor and, when above it, against the
    calibrated expectation (a speculative run against the floor per accepted token)."""
    tpot, floor, d = a.stats.mean_tpot, a.floor_tpot_s, a.deployment
    at = "" if a.judged_concurrency is None else f" at {a.judged_concurrency:.1f} requests in flight"
    accepted = a.stats.spec_acceptance_length
    if accepted and accepted > 1:
        return [_speculative_floor(tpot, floor, accepted, at)]
    out: list[Diagnostic] = []
    below = tpot < floor * (1 - BELOW_FLOOR_MARGIN)
    if below:
        out.append(
            Diagnostic(
                "warning",
                f"mean TPOT {tpot * 1e3:.2f} ms is below the physical floor of {floor * 1e3:.2f} ms{at} for "
                f"{d.scheme.weights.key} weights on {d.tp} × {d.accelerator.key} ({tpot / floor:.2f}× the floor): "
                "each step must read the weights, so the engine is emitting more than one token per step "
                "(speculative decoding: draft model, EAGLE, n-gram or MTP) or the weights are smaller than declared "
                "(e.g. an FP4 checkpoint declared as FP8), or --gpu/--tp do not match the server",
            )
        )
    measured = a.measurement.output_tok_s_per_gpu
    ceiling = a.ceiling_output_tok_s_per_gpu
    if not below and measured is not None and measured > ceiling * (1 + BELOW_FLOOR_MARGIN):
        out.append(
            Diagnostic(
                "warning",
                f"output {measured:,.0f} tok/s per GPU beats the physical ceiling of {ceiling:,.0f}{at} "
                f"({measured / ceiling:.2f}× it: every request in flight decoding at the floor): more requests were in "
                "flight than the file says (a client cap or duration that does not match the run), the rate counts "
                "input tokens too, or the engine emits more than one token per step",
            )
        )
    if a.expected is None:
        out.append(Diagnostic("info", f"no calibrated expectation: {a.expected_error}"))
    elif not below:
        out.append(_against_expectation(a, a.expected, at))
    return out


def _speculative_floor(tpot: float, floor: float, accepted: float, at: str) -> Diagnostic:
    """Speculative decoding emits ``accepted`` tokens per verified step: the per-token floor divides."""
    per_token = floor / accepted
    if tpot < per_token * (1 - BELOW_FLOOR_MARGIN):
        return Diagnostic(
            "warning",
            f"mean TPOT {tpot * 1e3:.2f} ms is below even the speculative floor of {per_token * 1e3:.2f} ms "
            f"({floor * 1e3:.2f} ms per step{at} ÷ {accepted:.2f} accepted tokens per step, from the file): "
            "the weights are smaller than declared or --gpu/--tp do not match the server",
        )
    return Diagnostic(
        "info",
        f"speculative decoding accepted {accepted:.2f} tokens per step (from the file), so the per-token "
        f"floor is {per_token * 1e3:.2f} ms ({floor * 1e3:.2f} ms per step ÷ {accepted:.2f}); the "
        "calibrated expectation is for one token per step",
    )


def _against_expectation(a: BenchAudit, e: Prediction, at: str) -> Diagnostic:
    """The run's mean TPOT against the calibrated expectation and its band."""
    tpot, s, d = a.stats.mean_tpot, a.stats, a.deployment
    expected = float(e.tpot_s)
    low, high = (abs(x) for x in e.band)  # relative error below and above the prediction
    ratio = tpot / expected
    where = (
        f"{ratio:.2f}× the calibrated expectation of {expected * 1e3:.2f} ms{at} (band −{low:.0%}/+{high:.0%}"
        + (", extrapolated" if e.extrapolated else "")
        + f"; profile {e.profile})"
    )
    if ratio > max(WELL_ABOVE_FACTOR, 1 + high):
        median = ""
        if s.median_tpot is not None and s.median_tpot < tpot / MEAN_OVER_MEDIAN_FACTOR:
            median = (
                f" (the median TPOT, {s.median_tpot * 1e3:.2f} ms, is {s.median_tpot / expected:.2f}× the "
                "expectation: see the stalls below)"
            )
        return Diagnostic(
            "warning",
            f"mean TPOT {tpot * 1e3:.2f} ms is well above the expectation: {where}{median}. Likely causes: the "
            f"precision path is wrong (the engine ran {_slower_paths(d.scheme.weights.key)}; check the "
            "quantization line of the server log), CUDA graphs were cold or disabled (--enforce-eager, or "
            "warm-up requests counted), or the server ran with other settings (max-num-seqs, chunked-prefill "
            "budget, another engine version)" + _extrapolation_caveat(e),
        )
    if ratio > 1 + high:
        return Diagnostic("info", f"mean TPOT {tpot * 1e3:.2f} ms is somewhat slower than expected: {where}")
    if ratio < 1 - low:
        return Diagnostic(
            "info",
            f"mean TPOT {tpot * 1e3:.2f} ms is faster than expected ({where}) yet above the floor: a newer "
            "engine or kernels than the profile's data; fit your own profile with `blackwell-decide calibrate`",
        )
    return Diagnostic("ok", f"mean TPOT {tpot * 1e3:.2f} ms is within the calibrated band: {where}")


def _extrapolation_caveat(e: Prediction) -> str:
    """When the expectation is itself extrapolated, the profile may be what is off."""
    reasons = [n.removeprefix("extrapolated: ") for n in e.notes if n.startswith("extrapolated: ")]
    if not e.extrapolated or not reasons:
        return ""
    return (
        f". The expectation is itself extrapolated ({'; '.join(reasons)}), so the profile may be what is off: "
        "fit one on your own runs with `blackwell-decide calibrate`"
    )


def _tails(s: RunStats, e: Prediction | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if s.median_tpot and s.mean_tpot > MEAN_OVER_MEDIAN_FACTOR * s.median_tpot:
        out.append(
            Diagnostic(
                "warning",
                f"mean TPOT {s.mean_tpot * 1e3:.2f} ms is {s.mean_tpot / s.median_tpot:.1f}× its median "
                f"({s.median_tpot * 1e3:.2f} ms): a minority of requests decoded far slower than the rest (stalls: "
                "preemption and recompute or swapping when the KV cache runs out, requests stuck behind long "
                "prefills, a client or network hiccup); the median is the typical decode step",
            )
        )
    if s.median_tpot and s.p99_tpot is not None and s.p99_tpot > TAIL_FACTOR * s.median_tpot:
        out.append(
            Diagnostic(
                "warning",
                f"p99 TPOT {s.p99_tpot * 1e3:.1f} ms is {s.p99_tpot / s.median_tpot:.1f}× the median "
                f"({s.median_tpot * 1e3:.2f} ms): the slowest requests stalled (preemption when the KV cache "
                "fills, or long prefills scheduled between their decode steps)",
            )
        )
    if s.p99_itl is not None and s.median_itl and s.p99_itl > TAIL_FACTOR * s.median_itl:
        out.append(
            Diagnostic(
                "info",
                f"p99 inter-token latency {s.p99_itl * 1e3:.1f} ms is {s.p99_itl / s.median_itl:.1f}× the median "
                f"({s.median_itl * 1e3:.1f} ms): decode steps stall behind prefill chunks or preemptions",
            )
        )
    return out


def _ratio_span(evidence: tuple[str, ...]) -> str:
    ratios = sorted(float(line.split(" = ", 1)[1].split("×", 1)[0]) for line in evidence)
    return f"{ratios[0]:.1f}×" if ratios[0] == ratios[-1] else f"{ratios[0]:.1f}–{ratios[-1]:.1f}×"
