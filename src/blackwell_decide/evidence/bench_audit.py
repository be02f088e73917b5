"""Benchmark audit: put a real serving-benchmark result beside the physical floor and the
calibrated expectation at the concurrency that was really in flight, and say what a gap means.

The concurrency comes from the result itself: the client cap when the clients kept it full,
else Little's law (requests completed ÷ duration × mean end-to-end latency, or the per-request
latencies where the file saved them), because a run at ``--request-rate 1`` has a handful of
requests in flight, not all of its prompts.

The expectation is the calibrated performance model's prediction, not "the floor plus a
millisecond or two": measured TPOTs at low concurrency sit well above the bandwidth floor
because each decode step carries a fixed cost (kernel launches, scheduling, sampling) that does
not shrink with bandwidth. The audit quotes the shipped measurements of the same model, GPU and
format when they exist, so a reader can see how far above its floor that hardware really runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import BlackwellDecideError

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment, ModelArch
    from blackwell_decide.perf.measurement import Measurement
    from blackwell_decide.perf.model import Prediction
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


@attrs.frozen
class BenchAudit:
    """One result judged at ``judged_concurrency`` requests per decode instance (the measured
    concurrency divided over the pipeline stages). ``floor_tpot_s`` is the physical decode floor
    there, ``ceiling_output_tok_s_per_gpu`` the output rate that floor allows over every GPU of
    the run, ``expected_output_tok_s_per_gpu`` the calibrated expectation on the same basis."""

    path: str
    measurement: Measurement
    deployment: Deployment
    stats: RunStats
    judged_concurrency: float | None
    floor_tpot_s: float
    batch1_floor_s: float
    ceiling_output_tok_s_per_gpu: float
    expected: Prediction | None
    expected_output_tok_s_per_gpu: float | None
    expected_error: str
    diagnostics: tuple[Diagnostic, ...] = ()
    evidence: tuple[str, ...] = ()
    other_evidence: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

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
        if self.expected_output_tok_s_per_gpu is None or m is None:
            return None
        return m / self.expected_output_tok_s_per_gpu

    def to_dict(self) -> dict[str, Any]:
        m, s = self.measurement, self.stats
        doc: dict[str, Any] = {
            "file": self.path,
            "tool": s.tool,
            "deployment": {
                "model": self.deployment.model.key,
                "gpu": self.deployment.accelerator.key,
                "weights": self.deployment.scheme.weights.key,
                "kv": self.deployment.scheme.kv_cache.key,
                "tp": self.deployment.tp,
                "pp": m.pp,
                "prefill_gpus": m.prefill_gpus,
                "num_gpus": m.num_gpus,
                "engine": m.engine,
            },
            "concurrency": m.concurrency,
            "concurrency_basis": m.concurrency_basis,
            "judged_concurrency": self.judged_concurrency,
            "traffic": {
                "request_rate": s.request_rate,
                "max_concurrency": s.max_concurrency,
                "num_prompts": s.num_prompts,
                "completed": s.completed,
                "duration_s": s.duration_s,
                "littles_law_concurrency": s.littles_law,
                "littles_law_from": s.littles_law_from or None,
            },
            "mean_isl": m.mean_isl,
            "mean_osl": m.mean_osl,
            "measured": {
                "mean_tpot_ms": s.mean_tpot * 1e3,
                "median_tpot_ms": _ms(s.median_tpot),
                "p99_tpot_ms": _ms(s.p99_tpot),
                "mean_itl_ms": _ms(s.mean_itl),
                "median_itl_ms": _ms(s.median_itl),
                "p99_itl_ms": _ms(s.p99_itl),
                "mean_ttft_ms": _ms(s.mean_ttft),
                "mean_e2e_ms": _ms(s.mean_e2e),
                "output_tok_s_per_gpu": m.output_tok_s_per_gpu,
            },
            "floor_tpot_ms": self.floor_tpot_s * 1e3,
            "batch1_floor_tpot_ms": self.batch1_floor_s * 1e3,
            "ceiling_output_tok_s_per_gpu": self.ceiling_output_tok_s_per_gpu,
            "fraction_of_floor": self.fraction_of_floor,
            "expected": None,
            "fraction_of_expected": self.fraction_of_expected,
            "throughput_fraction_of_expected": self.throughput_fraction_of_expected,
            "diagnostics": [{"level": d.level, "message": d.message} for d in self.diagnostics],
            "evidence": list(self.evidence),
            "other_model_evidence": list(self.other_evidence),
            "notes": list(self.notes),
        }
        if self.expected is not None:
            e = self.expected
            doc["expected"] = {
                "tpot_ms": float(e.tpot_s) * 1e3,
                "ttft_ms": float(e.ttft_s) * 1e3,
                "output_tok_s_per_gpu": self.expected_output_tok_s_per_gpu,
                "band": list(e.band),
                "extrapolated": e.extrapolated,
                "profile": e.profile,
                "binding": e.binding,
                "notes": list(e.notes),
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
    pp: int | None = None,
    prefill_gpus: int | None = None,
    engine: str | None = None,
    fmt: str | None = None,
    index: int | None = None,
) -> BenchAudit:
    """Read a benchmark result (vLLM, SGLang, GenAI-Perf, GuideLLM or InferenceX; ``fmt`` names
    it, else it is detected) and audit it against the deployment's floor and the calibrated
    expectation at the concurrency in flight and the mean lengths sent (``index`` picks one run
    of a file that holds several). With ``pp`` pipeline
    stages the bounds are those of one stage's tensor-parallel group at 1/pp of the requests;
    with ``prefill_gpus`` (a prefill/decode-disaggregated run) the bounds are the decode GPUs'
    and throughput per GPU counts the prefill GPUs too."""
    import numpy as np

    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.perf.physics import decode_floor, deployment_terms
    from blackwell_decide.perf.readers import read_bench_result
    from blackwell_decide.resolve import resolve_deployment

    result = read_bench_result(
        path,
        index=index,
        fmt=fmt,
        model=model,
        gpu=gpu,
        weights=weights,
        kv=kv,
        tp=tp,
        pp=pp,
        prefill_gpus=prefill_gpus,
        engine=engine,
    )
    m, stats = result.measurement, result.stats
    deployment = resolve_deployment(model=m.model, gpu=m.gpu, weights=m.weights, kv=m.kv or None, tp=m.tp)
    notes = list(result.notes)
    judged = None if m.concurrency is None else max(1.0, m.concurrency / m.pp)
    if m.pp > 1:
        notes.append(
            f"pipeline parallelism {m.pp}: each token passes all {m.pp} stages, so the floor is one stage group's "
            f"(TP {m.tp}) with {judged:.2f} requests per micro-batch; the calibrated profiles were fitted on "
            "tensor-parallel runs, so the expectation is approximate"
            if judged is not None
            else f"pipeline parallelism {m.pp}: bounds are those of one TP {m.tp} stage group"
        )
    if m.prefill_gpus:
        notes.append(
            f"prefill/decode disaggregated: bounds on the {m.tp * m.pp} decode GPUs; throughput per GPU counts the "
            f"{m.prefill_gpus} prefill GPUs too; TTFT includes the KV transfer, which the expectation leaves out"
        )
    expected, expected_error = _expectation(deployment, m, judged)
    bounds = compute_bounds(deployment)
    batch1 = bounds.value("decode_floor_s")
    if expected is not None:
        floor = float(expected.floor_tpot_s)
        in_flight = min(float(expected.concurrency), max(float(expected.kv_capacity), 1.0))
    else:
        in_flight = judged or 1.0
        floor = float(decode_floor(deployment_terms(deployment), m.workload, np.array([in_flight]))[0])
    # Output tokens/s the floor allows: every request in flight emits one token per floor step.
    ceiling = in_flight * m.pp / floor / m.num_gpus
    expected_per_gpu = None if expected is None else float(expected.output_tok_s) * m.pp / m.num_gpus
    audit = BenchAudit(
        str(path),
        m,
        deployment,
        stats,
        judged,
        floor,
        batch1,
        ceiling,
        expected,
        expected_per_gpu,
        expected_error,
        notes=tuple(notes),
    )
    evidence, other = _evidence(deployment)
    return attrs.evolve(audit, diagnostics=tuple(_diagnose(audit, evidence)), evidence=evidence, other_evidence=other)


def _expectation(deployment: Deployment, m: Measurement, judged: float | None) -> tuple[Prediction | None, str]:
    from blackwell_decide.perf.model import max_throughput, predict

    try:
        if judged is None:
            return max_throughput(deployment, m.workload, engine=m.engine), ""
        return predict(deployment, m.workload, engine=m.engine, concurrency=judged), ""
    except BlackwellDecideError as exc:
        return None, str(exc)


# ---------------------------------------------------------------------------- evidence
_SHAPE = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim", "intermediate_size")


def _same_model(a: ModelArch, b: ModelArch) -> bool:
    """The same model for the bounds: the same key, or the same architecture (Llama 3.1 70B and
    3.3 70B differ only in training)."""
    return a.key == b.key or (all(getattr(a, f) == getattr(b, f) for f in _SHAPE) and a.moe == b.moe)


def _evidence(deployment: Deployment) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Shipped low-concurrency TPOT measurements of this GPU and weight format, each beside the
    batch-1 floor of the deployment it was measured on (its own model): (this model's, other
    models' labelled as such)."""
    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.evidence.records import measured_records
    from blackwell_decide.plugins import get_catalog
    from blackwell_decide.resolve import resolve_deployment

    models = get_catalog().models
    same: list[str] = []
    other: list[str] = []
    for r in measured_records():
        if r.metric != "tpot_s" or r.gpu != deployment.accelerator.key or r.weights != deployment.scheme.weights.key:
            continue
        try:
            measured_on = resolve_deployment(
                model=r.model, gpu=r.gpu, weights=r.weights, kv=deployment.scheme.kv_cache.key, tp=r.tp or 1
            )
            floor = compute_bounds(measured_on).value("decode_floor_s")
        except BlackwellDecideError:
            continue
        line = (
            f"{r.gpu} {r.weights} {r.engine} TP{r.tp} at concurrency {r.concurrency}: mean TPOT "
            f"{r.value * 1e3:.2f} ms = {r.value / floor:.1f}× its {floor * 1e3:.2f} ms batch-1 floor "
            f"({r.source.date}, {r.source.title or r.source.url})"
        )
        if r.model in models and _same_model(models.get(r.model), deployment.model):
            same.append(line)
        else:
            other.append(f"another model ({r.model}, not comparable with this result): {line}")
    return tuple(same), tuple(other)


# ---------------------------------------------------------------------------- diagnostics
def _diagnose(a: BenchAudit, evidence: tuple[str, ...]) -> list[Diagnostic]:
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
            f"all {prompts} prompts were sent at once (request rate inf, no client cap below that): one prefill "
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
    out: list[Diagnostic] = []
    tpot, floor, d, s = a.stats.mean_tpot, a.floor_tpot_s, a.deployment, a.stats
    at = "" if a.judged_concurrency is None else f" at {a.judged_concurrency:.1f} requests in flight"
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
    e = a.expected
    if e is None:
        out.append(Diagnostic("info", f"no calibrated expectation: {a.expected_error}"))
        return out
    expected = float(e.tpot_s)
    low, high = (abs(x) for x in e.band)  # relative error below and above the prediction
    ratio = tpot / expected
    where = (
        f"{ratio:.2f}× the calibrated expectation of {expected * 1e3:.2f} ms{at} (band −{low:.0%}/+{high:.0%}"
        + (", extrapolated" if e.extrapolated else "")
        + f"; profile {e.profile})"
    )
    if below:
        return out
    if ratio > max(WELL_ABOVE_FACTOR, 1 + high):
        median = ""
        if s.median_tpot is not None and s.median_tpot < tpot / MEAN_OVER_MEDIAN_FACTOR:
            median = (
                f" (the median TPOT, {s.median_tpot * 1e3:.2f} ms, is {s.median_tpot / expected:.2f}× the "
                "expectation: see the stalls below)"
            )
        out.append(
            Diagnostic(
                "warning",
                f"mean TPOT {tpot * 1e3:.2f} ms is well above the expectation: {where}{median}. Likely causes: the "
                f"precision path is wrong (the engine ran {_slower_paths(d.scheme.weights.key)}; check the "
                "quantization line of the server log), CUDA graphs were cold or disabled (--enforce-eager, or "
                "warm-up requests counted), or the server ran with other settings (max-num-seqs, chunked-prefill "
                "budget, another engine version)" + _extrapolation_caveat(e),
            )
        )
    elif ratio > 1 + high:
        out.append(Diagnostic("info", f"mean TPOT {tpot * 1e3:.2f} ms is somewhat slower than expected: {where}"))
    elif ratio < 1 - low:
        out.append(
            Diagnostic(
                "info",
                f"mean TPOT {tpot * 1e3:.2f} ms is faster than expected ({where}) yet above the floor: a newer "
                "engine or kernels than the profile's data; fit your own profile with `blackwell-decide calibrate`",
            )
        )
    else:
        out.append(Diagnostic("ok", f"mean TPOT {tpot * 1e3:.2f} ms is within the calibrated band: {where}"))
    return out


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
