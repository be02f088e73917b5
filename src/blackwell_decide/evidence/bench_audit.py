"""Benchmark audit: put a real ``vllm bench serve`` result beside the physical floor and the
calibrated expectation at the same concurrency, and say what a gap means.

The expectation is the calibrated performance model's prediction, not "the floor plus a
millisecond or two": measured TPOTs at low concurrency sit well above the bandwidth floor
because each decode step carries a fixed cost (kernel launches, scheduling, sampling) that does
not shrink with bandwidth. The audit quotes the shipped measurements for the same GPU and format
when they exist, so a reader can see how far above its floor that hardware really runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide import input_files
from blackwell_decide.errors import BlackwellDecideError

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment
    from blackwell_decide.perf.ingest import Measurement
    from blackwell_decide.perf.model import Prediction

#: Measured TPOT this far under the floor is not noise: the floor is a hard bound.
BELOW_FLOOR_MARGIN = 0.03
#: Measured TPOT this many times the calibrated expectation (beyond its band) is "well above".
WELL_ABOVE_FACTOR = 1.5
#: p99 inter-token latency this many times the median signals stalls between tokens.
ITL_TAIL_FACTOR = 3.0


@attrs.frozen
class Diagnostic:
    level: str  # ok, info, warning
    message: str


@attrs.frozen
class LatencyStats:
    """The percentiles ``vllm bench serve`` writes, in seconds (None where absent)."""

    mean_tpot: float
    median_tpot: float | None
    p99_tpot: float | None
    mean_itl: float | None
    median_itl: float | None
    p99_itl: float | None
    mean_ttft: float | None
    median_ttft: float | None
    p99_ttft: float | None

    @classmethod
    def from_result(cls, data: Mapping[str, Any]) -> LatencyStats:
        def seconds(key: str) -> float | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return None
            return float(value) / 1e3

        mean = seconds("mean_tpot_ms")
        assert mean is not None  # read_vllm_bench_json has checked it
        return cls(
            mean,
            seconds("median_tpot_ms"),
            seconds("p99_tpot_ms"),
            seconds("mean_itl_ms"),
            seconds("median_itl_ms"),
            seconds("p99_itl_ms"),
            seconds("mean_ttft_ms"),
            seconds("median_ttft_ms"),
            seconds("p99_ttft_ms"),
        )


@attrs.frozen
class BenchAudit:
    path: str
    measurement: Measurement
    deployment: Deployment
    stats: LatencyStats
    floor_tpot_s: float  # physical floor at the measured concurrency
    batch1_floor_s: float
    expected: Prediction | None
    expected_error: str
    diagnostics: tuple[Diagnostic, ...]
    evidence: tuple[str, ...] = ()

    @property
    def fraction_of_floor(self) -> float:
        """Floor TPOT ÷ measured TPOT: 1.0 would be running at the physical bound."""
        return self.floor_tpot_s / self.stats.mean_tpot

    @property
    def fraction_of_expected(self) -> float | None:
        """Expected TPOT ÷ measured TPOT: 1.0 is exactly what the calibrated model predicts."""
        if self.expected is None:
            return None
        return float(self.expected.tpot_s) / self.stats.mean_tpot

    @property
    def throughput_fraction_of_expected(self) -> float | None:
        m = self.measurement.output_tok_s_per_gpu
        if self.expected is None or m is None:
            return None
        return m / float(self.expected.output_tok_s_per_gpu)

    def to_dict(self) -> dict[str, Any]:
        m, s = self.measurement, self.stats
        doc: dict[str, Any] = {
            "file": self.path,
            "deployment": {
                "model": self.deployment.model.key,
                "gpu": self.deployment.accelerator.key,
                "weights": self.deployment.scheme.weights.key,
                "kv": self.deployment.scheme.kv_cache.key,
                "tp": self.deployment.tp,
                "engine": m.engine,
            },
            "concurrency": m.concurrency,
            "mean_isl": m.mean_isl,
            "mean_osl": m.mean_osl,
            "measured": {
                "mean_tpot_ms": s.mean_tpot * 1e3,
                "median_tpot_ms": _ms(s.median_tpot),
                "p99_tpot_ms": _ms(s.p99_tpot),
                "mean_itl_ms": _ms(s.mean_itl),
                "p99_itl_ms": _ms(s.p99_itl),
                "mean_ttft_ms": _ms(s.mean_ttft),
                "output_tok_s_per_gpu": m.output_tok_s_per_gpu,
            },
            "floor_tpot_ms": self.floor_tpot_s * 1e3,
            "batch1_floor_tpot_ms": self.batch1_floor_s * 1e3,
            "fraction_of_floor": self.fraction_of_floor,
            "expected": None,
            "fraction_of_expected": self.fraction_of_expected,
            "throughput_fraction_of_expected": self.throughput_fraction_of_expected,
            "diagnostics": [{"level": d.level, "message": d.message} for d in self.diagnostics],
            "evidence": list(self.evidence),
        }
        if self.expected is not None:
            e = self.expected
            doc["expected"] = {
                "tpot_ms": float(e.tpot_s) * 1e3,
                "ttft_ms": float(e.ttft_s) * 1e3,
                "output_tok_s_per_gpu": float(e.output_tok_s_per_gpu),
                "band": list(e.band),
                "extrapolated": e.extrapolated,
                "profile": e.profile,
                "binding": e.binding,
            }
        else:
            doc["expected_error"] = self.expected_error
        return doc


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1e3


def audit_bench_result(
    path: str | Path,
    *,
    model: str | None = None,
    gpu: str | None = None,
    weights: str | None = None,
    kv: str | None = None,
    tp: int | None = None,
    engine: str = "vllm",
) -> BenchAudit:
    """Read a ``vllm bench serve --save-result`` file and audit it against the deployment's floor
    and the calibrated expectation at the same concurrency and mean lengths."""
    from blackwell_decide.perf.ingest import read_vllm_bench_json
    from blackwell_decide.resolve import resolve_deployment

    measurement = read_vllm_bench_json(path, model=model, gpu=gpu, weights=weights, kv=kv, tp=tp, engine=engine)
    data = input_files.load_json(path, limit=input_files.MEASUREMENT_LIMIT)
    stats = LatencyStats.from_result(data)
    deployment = resolve_deployment(
        model=measurement.model, gpu=measurement.gpu, weights=measurement.weights, kv=measurement.kv, tp=measurement.tp
    )
    expected, expected_error = _expectation(deployment, measurement)
    floor_at_batch, batch1 = _floors(deployment, measurement, expected)
    audit = BenchAudit(str(path), measurement, deployment, stats, floor_at_batch, batch1, expected, expected_error, ())
    evidence = _same_hardware_evidence(deployment)
    return attrs.evolve(audit, diagnostics=tuple(_diagnose(audit, evidence)), evidence=evidence)


def _expectation(deployment: Deployment, m: Measurement) -> tuple[Prediction | None, str]:
    from blackwell_decide.perf.model import max_throughput, predict

    try:
        if m.concurrency is None:
            return max_throughput(deployment, m.workload, engine=m.engine), ""
        return predict(deployment, m.workload, engine=m.engine, concurrency=m.concurrency), ""
    except BlackwellDecideError as exc:
        return None, str(exc)


def _floors(deployment: Deployment, m: Measurement, expected: Prediction | None) -> tuple[float, float]:
    """(floor at the measured batch, batch-1 floor) in seconds per token."""
    from blackwell_decide.bounds import compute_bounds

    bounds = compute_bounds(deployment)
    batch1 = bounds.value("decode_floor_s")
    if expected is not None:
        return float(expected.floor_tpot_s), batch1
    # Without a prediction: weights once per step plus every running request's KV cache.
    batch = m.concurrency or 1
    context = m.mean_isl + m.mean_osl / 2
    kv = batch * context * bounds.value("kv_bytes_per_token")
    bw = bounds.deployment.accelerator.hbm_bandwidth * deployment.tp
    return (bounds.value("streamed_bytes") + kv) / bw, batch1


def _same_hardware_evidence(deployment: Deployment) -> tuple[str, ...]:
    """Shipped low-concurrency TPOT measurements of this GPU and weight format, each beside the
    batch-1 floor of the deployment they were measured on."""
    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.evidence.records import measured_records
    from blackwell_decide.resolve import resolve_deployment

    lines = []
    for r in measured_records():
        if r.metric != "tpot_s" or r.gpu != deployment.accelerator.key or r.weights != deployment.scheme.weights.key:
            continue
        try:
            measured_on = resolve_deployment(
                model=deployment.model.key,
                gpu=r.gpu,
                weights=r.weights,
                kv=deployment.scheme.kv_cache.key,
                tp=r.tp or 1,
            )
            floor = compute_bounds(measured_on).value("decode_floor_s")
        except BlackwellDecideError:
            continue
        lines.append(
            f"{r.gpu} {r.weights} {r.engine} TP{r.tp} at concurrency {r.concurrency}: mean TPOT "
            f"{r.value * 1e3:.2f} ms = {r.value / floor:.1f}× its {floor * 1e3:.2f} ms batch-1 floor "
            f"({r.source.date}, {r.source.title or r.source.url})"
        )
    return tuple(lines)


def _diagnose(a: BenchAudit, evidence: tuple[str, ...]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    tpot = a.stats.mean_tpot
    floor = a.floor_tpot_s
    d = a.deployment
    if tpot < floor * (1 - BELOW_FLOOR_MARGIN):
        out.append(
            Diagnostic(
                "warning",
                f"mean TPOT {tpot * 1e3:.2f} ms is below the physical floor of {floor * 1e3:.2f} ms for "
                f"{d.scheme.weights.key} weights on {d.tp} × "
                f"{d.accelerator.key}: each step must read the weights, so the "
                "engine is emitting more than one token per step (speculative decoding: draft model, EAGLE, n-gram or "
                "MTP) or the weights are smaller than declared (e.g. an FP4 checkpoint declared as FP8), or --gpu/--tp "
                "do not match the server",
            )
        )
    e = a.expected
    if e is not None:
        expected = float(e.tpot_s)
        low, high = (abs(x) for x in e.band)  # relative error below and above the prediction
        ratio = tpot / expected
        where = (
            f"{ratio:.2f}× the calibrated expectation of {expected * 1e3:.2f} ms (band −{low:.0%}/+{high:.0%}"
            + (", extrapolated" if e.extrapolated else "")
            + f"; profile {e.profile})"
        )
        if tpot >= floor * (1 - BELOW_FLOOR_MARGIN):
            if ratio > max(WELL_ABOVE_FACTOR, 1 + high):
                out.append(
                    Diagnostic(
                        "warning",
                        f"mean TPOT {tpot * 1e3:.2f} ms is well above the expectation: {where}. Likely causes: the "
                        f"precision path is wrong (the engine fell back to FP8 or BF16 kernels instead of "
                        f"{d.scheme.weights.key}; check the quantization "
                        "line of the server log), CUDA graphs were cold "
                        "or disabled (--enforce-eager, or warm-up requests "
                        "counted), or the server ran with other settings "
                        "(max-num-seqs, chunked-prefill budget, another engine version)",
                    )
                )
            elif ratio > 1 + high:
                out.append(
                    Diagnostic("info", f"mean TPOT {tpot * 1e3:.2f} ms is somewhat slower than expected: {where}")
                )
            elif ratio < 1 - low:
                out.append(
                    Diagnostic(
                        "info",
                        f"mean TPOT {tpot * 1e3:.2f} ms is faster than expected ({where}) yet "
                        "above the floor: a newer engine or kernels than the profile's data; "
                        "fit your own profile with `blackwell-decide calibrate`",
                    )
                )
            else:
                out.append(Diagnostic("ok", f"mean TPOT {tpot * 1e3:.2f} ms is within the calibrated band: {where}"))
    else:
        out.append(Diagnostic("info", f"no calibrated expectation: {a.expected_error}"))
    s = a.stats
    if s.p99_itl is not None and s.median_itl and s.p99_itl > ITL_TAIL_FACTOR * s.median_itl:
        out.append(
            Diagnostic(
                "info",
                f"p99 inter-token latency {s.p99_itl * 1e3:.1f} ms is {s.p99_itl / s.median_itl:.1f}× the median "
                f"({s.median_itl * 1e3:.1f} ms): decode steps stall behind prefill chunks or preemptions",
            )
        )
    if evidence:
        out.append(
            Diagnostic(
                "info",
                f"the expectation comes from the calibrated model, not "
                "from 'floor plus a millisecond or two': measured "
                f"low-concurrency TPOTs on this hardware run {_ratio_span(evidence)} their floor (see evidence below)",
            )
        )
    return out


def _ratio_span(evidence: tuple[str, ...]) -> str:
    ratios = sorted(float(line.split(" = ", 1)[1].split("×", 1)[0]) for line in evidence)
    return f"{ratios[0]:.1f}×" if ratios[0] == ratios[-1] else f"{ratios[0]:.1f}–{ratios[-1]:.1f}×"
