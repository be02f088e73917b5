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
from blackwell_decide.evidence.bench_diagnostics import Diagnostic, diagnose

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blackwell_decide.model import Deployment, ModelArch
    from blackwell_decide.perf import Prediction
    from blackwell_decide.perf.measurement import Measurement
    from blackwell_decide.perf.readers.common import RunStats
    from blackwell_decide.plugins import Catalog


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
        m = self.measurement
        doc: dict[str, Any] = {
            "file": self.path,
            "tool": self.stats.tool,
            "deployment": self._deployment_dict(),
            "concurrency": m.concurrency,
            "concurrency_basis": m.concurrency_basis,
            "judged_concurrency": self.judged_concurrency,
            "traffic": self._traffic_dict(),
            "mean_isl": m.mean_isl,
            "mean_osl": m.mean_osl,
            "measured": self._measured_dict(),
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
            doc["expected"] = self._expected_dict(self.expected)
        else:
            doc["expected_error"] = self.expected_error
        return doc

    # The parts of to_dict that each describe one thing, kept apart so the document's layout
    # (its key order is what --json prints) reads at a glance in to_dict.
    def _deployment_dict(self) -> dict[str, Any]:
        m, d = self.measurement, self.deployment
        return {
            "model": d.model.key,
            "gpu": d.accelerator.key,
            "weights": d.scheme.weights.key,
            "kv": d.scheme.kv_cache.key,
            "tp": d.tp,
            "pp": m.pp,
            "prefill_gpus": m.prefill_gpus,
            "num_gpus": m.num_gpus,
            "engine": m.engine,
        }

    def _traffic_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "request_rate": s.request_rate,
            "max_concurrency": s.max_concurrency,
            "num_prompts": s.num_prompts,
            "completed": s.completed,
            "duration_s": s.duration_s,
            "littles_law_concurrency": s.littles_law,
            "littles_law_from": s.littles_law_from or None,
        }

    def _measured_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "mean_tpot_ms": s.mean_tpot * 1e3,
            "median_tpot_ms": _ms(s.median_tpot),
            "p99_tpot_ms": _ms(s.p99_tpot),
            "mean_itl_ms": _ms(s.mean_itl),
            "median_itl_ms": _ms(s.median_itl),
            "p99_itl_ms": _ms(s.p99_itl),
            "mean_ttft_ms": _ms(s.mean_ttft),
            "mean_e2e_ms": _ms(s.mean_e2e),
            "output_tok_s_per_gpu": self.measurement.output_tok_s_per_gpu,
        }

    def _expected_dict(self, e: Prediction) -> dict[str, Any]:
        return {
            "tpot_ms": float(e.tpot_s) * 1e3,
            "ttft_ms": float(e.ttft_s) * 1e3,
            "output_tok_s_per_gpu": self.expected_output_tok_s_per_gpu,
            "band": list(e.band),
            "extrapolated": e.extrapolated,
            "profile": e.profile,
            "binding": e.binding,
            "notes": list(e.notes),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1e3


def audit_bench_result(
    path: str | Path,
    catalog: Catalog,
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
    from blackwell_decide.perf.readers import read_bench_result
    from blackwell_decide.resolve import resolve_deployment

    result = read_bench_result(
        path,
        catalog=catalog,
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
    m = result.measurement
    deployment = resolve_deployment(
        model=m.model, gpu=m.gpu, weights=m.weights, kv=m.kv or None, tp=m.tp, catalog=catalog
    )
    return _judge(str(path), m, result.stats, deployment, result.notes, catalog)


def _judge(
    path: str, m: Measurement, stats: RunStats, deployment: Deployment, read_notes: Sequence[str], catalog: Catalog
) -> BenchAudit:
    """Judge a run read from ``path``: at the concurrency per pipeline stage, against its floors
    and the calibrated expectation, then diagnosed against the shipped evidence (separate from
    the reading above, which only works out what was measured on what)."""
    judged = None if m.concurrency is None else max(1.0, m.concurrency / m.pp)
    notes = [*read_notes, *_layout_notes(m, judged)]
    expected, expected_error = _expectation(catalog, deployment, m, judged)
    floor, batch1, ceiling = _floors(deployment, m, judged, expected)
    expected_per_gpu = None if expected is None else float(expected.output_tok_s) * m.pp / m.num_gpus
    audit = BenchAudit(
        path,
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
    evidence, other = _evidence(catalog, deployment)
    return attrs.evolve(audit, diagnostics=tuple(diagnose(audit, evidence)), evidence=evidence, other_evidence=other)


def _floors(
    deployment: Deployment, m: Measurement, judged: float | None, expected: Prediction | None
) -> tuple[float, float, float]:
    """The decode floor at the concurrency in flight, the batch-1 floor, and the output tok/s per
    GPU the floor allows. With an expectation, its own floor and the batch it could hold (the KV
    cache may cap what was sent); without one, the floor at the judged concurrency."""
    import numpy as np

    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.perf.physics import decode_floor, deployment_terms

    batch1 = compute_bounds(deployment).value("decode_floor_s")
    if expected is not None:
        floor = float(expected.floor_tpot_s)
        in_flight = min(float(expected.concurrency), max(float(expected.kv_capacity), 1.0))
    else:
        in_flight = judged or 1.0
        floor = float(decode_floor(deployment_terms(deployment), m.workload, np.array([in_flight]))[0])
    # Output tokens/s the floor allows: every request in flight emits one token per floor step.
    ceiling = in_flight * m.pp / floor / m.num_gpus
    return floor, batch1, ceiling


def _layout_notes(m: Measurement, judged: float | None) -> list[str]:
    """What pipeline stages or disaggregated prefill change in how the run is judged."""
    notes: list[str] = []
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
    return notes


def _expectation(
    catalog: Catalog, deployment: Deployment, m: Measurement, judged: float | None
) -> tuple[Prediction | None, str]:
    from blackwell_decide.perf.model import max_throughput, predict

    try:
        if judged is None:
            return max_throughput(deployment, m.workload, engine=m.engine, catalog=catalog), ""
        return predict(deployment, m.workload, engine=m.engine, concurrency=judged, catalog=catalog), ""
    except BlackwellDecideError as exc:
        return None, str(exc)


# ---------------------------------------------------------------------------- evidence
_SHAPE = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim", "intermediate_size")


def _same_model(a: ModelArch, b: ModelArch) -> bool:
    """The same model for the bounds: the same key, or the same architecture (Llama 3.1 70B and
    3.3 70B differ only in training)."""
    return a.key == b.key or (all(getattr(a, f) == getattr(b, f) for f in _SHAPE) and a.moe == b.moe)


def _evidence(catalog: Catalog, deployment: Deployment) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Shipped low-concurrency TPOT measurements of this GPU and weight format, each beside the
    batch-1 floor of the deployment it was measured on (its own model): (this model's, other
    models' labelled as such)."""
    from blackwell_decide.bounds import compute_bounds
    from blackwell_decide.evidence.records import measured_records
    from blackwell_decide.resolve import resolve_deployment

    models = catalog.models
    same: list[str] = []
    other: list[str] = []
    for r in measured_records():
        if r.metric != "tpot_s" or r.gpu != deployment.accelerator.key or r.weights != deployment.scheme.weights.key:
            continue
        try:
            measured_on = resolve_deployment(
                model=r.model,
                gpu=r.gpu,
                weights=r.weights,
                kv=deployment.scheme.kv_cache.key,
                tp=r.tp or 1,
                catalog=catalog,
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


__all__ = ["BenchAudit", "Diagnostic", "audit_bench_result"]
