"""Triangulation: restate throughput ratios from different sources on one common baseline and say
whether they agree.

Sources compare against different baselines (InferenceMAX's B200 against H200, MLPerf's against
H100) and on different metrics (a floor, a peak, an interactivity point). A ratio against H200 is
moved to H100 by a stated restatement factor, for instance the HBM-bandwidth ratio 4.8 / 3.35,
which assumes the Hopper parts' throughput scales with bandwidth alone; the factor, its inputs
and that caveat travel with the restated number.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.bounds import compute_bounds, speedup
from blackwell_decide.bounds.results import Input
from blackwell_decide.economics.basis import TokenBasis
from blackwell_decide.errors import UsageError
from blackwell_decide.evidence.records import EvidenceRecord, get_record, measured_records
from blackwell_decide.model import DERIVED, Conventions, Source

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator
    from blackwell_decide.plugins import Catalog

TRTLLM_DATASET = "trtllm-perf-overview-llama70b"


@attrs.frozen
class Restatement:
    """Multiply a ratio against ``from_baseline`` by ``factor`` to get it against ``to_baseline``."""

    from_baseline: str
    to_baseline: str
    factor: float
    formula: str
    inputs: tuple[Input, ...]
    caveat: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_baseline": self.from_baseline,
            "to_baseline": self.to_baseline,
            "factor": self.factor,
            "formula": self.formula,
            "inputs": [i.to_dict() for i in self.inputs],
            "caveat": self.caveat,
        }


def bandwidth_restatement(from_acc: Accelerator, to_acc: Accelerator) -> Restatement:
    """Move a candidate-over-``from_acc`` ratio onto ``to_acc`` through their HBM bandwidths."""
    factor = from_acc.hbm_bandwidth / to_acc.hbm_bandwidth
    return Restatement(
        from_baseline=from_acc.key,
        to_baseline=to_acc.key,
        factor=factor,
        formula=f"ratio_vs_{to_acc.key} = ratio_vs_{from_acc.key} * BW_{from_acc.key} / BW_{to_acc.key}",
        inputs=(
            Input(
                f"BW_{from_acc.key}",
                f"{from_acc.name} HBM bandwidth",
                from_acc.hbm_bandwidth,
                "B/s",
                from_acc.source_of("hbm_bandwidth"),
            ),
            Input(
                f"BW_{to_acc.key}",
                f"{to_acc.name} HBM bandwidth",
                to_acc.hbm_bandwidth,
                "B/s",
                to_acc.source_of("hbm_bandwidth"),
            ),
        ),
        caveat=f"assumes {from_acc.name} and {to_acc.name} throughput differ by bandwidth alone; at an "
        f"interactivity target the one with less memory also runs smaller batches, so the true gap is wider",
    )


@attrs.frozen
class RatioEstimate:
    """One source's candidate-over-baseline throughput ratio, before and after restatement."""

    label: str
    metric: str
    value: float
    baseline: str
    sources: tuple[Source, ...]
    evidence_ids: tuple[str, ...] = ()
    token_basis: TokenBasis | None = None
    restatement: Restatement | None = None
    notes: tuple[str, ...] = ()

    @property
    def restated(self) -> float:
        return self.value * (self.restatement.factor if self.restatement else 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "metric": self.metric,
            "value": self.value,
            "baseline": self.baseline,
            "restated": self.restated,
            "restatement": self.restatement.to_dict() if self.restatement else None,
            "token_basis": self.token_basis.value if self.token_basis else None,
            "evidence": list(self.evidence_ids),
            "sources": [s.cite() for s in self.sources],
            "notes": list(self.notes),
        }


@attrs.frozen
class Triangulation:
    candidate: str
    baseline: str
    estimates: tuple[RatioEstimate, ...]
    median: float
    low: float
    high: float
    verdict: str  # agree, roughly agree, disagree
    outliers: tuple[str, ...]
    agree_within: float
    rough_within: float

    def explanation(self) -> str:
        spread = f"{self.low:.2f}×–{self.high:.2f}× (median {self.median:.2f}×)"
        if self.verdict == "agree":
            return f"all {len(self.estimates)} estimates lie within ±{self.agree_within:.0%} of the median: {spread}"
        if self.verdict == "roughly agree":
            return f"all estimates lie within ±{self.rough_within:.0%} of the median: {spread}"
        odd = "; ".join(
            f"{e.label} {e.restated:.2f}× ({e.restated / self.median - 1:+.0%})"
            for e in self.estimates
            if e.label in self.outliers
        )
        return f"band {spread}; outside ±{self.rough_within:.0%} of the median: {odd}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "baseline": self.baseline,
            "band": [self.low, self.high],
            "median": self.median,
            "verdict": self.verdict,
            "explanation": self.explanation(),
            "outliers": list(self.outliers),
            "estimates": [e.to_dict() for e in self.estimates],
        }


def triangulate(
    candidate: str,
    baseline: str,
    estimates: Sequence[RatioEstimate],
    *,
    agree_within: float = 0.10,
    rough_within: float = 0.25,
) -> Triangulation:
    """The band of the restated ratios and a verdict: ``agree`` when every estimate is within
    ``agree_within`` of the median, ``roughly agree`` within ``rough_within``, else ``disagree``
    (the estimates further out are named)."""
    if not estimates:
        raise UsageError("triangulation needs at least one estimate")
    wrong = [e.label for e in estimates if (e.restatement.to_baseline if e.restatement else e.baseline) != baseline]
    if wrong:
        raise UsageError(f"estimates not restated onto {baseline}: {', '.join(wrong)}")
    values = [e.restated for e in estimates]
    median = statistics.median(values)
    deviations = {e.label: abs(e.restated / median - 1.0) for e in estimates}
    if all(d <= agree_within for d in deviations.values()):
        verdict = "agree"
    elif all(d <= rough_within for d in deviations.values()):
        verdict = "roughly agree"
    else:
        verdict = "disagree"
    outliers = tuple(label for label, d in deviations.items() if d > rough_within)
    return Triangulation(
        candidate,
        baseline,
        tuple(estimates),
        median,
        min(values),
        max(values),
        verdict,
        outliers,
        agree_within,
        rough_within,
    )


# ---------------------------------------------------------------------------- the article's case
def _trtllm_per_gpu(gpu: str, weights: str, isl: int, osl: int) -> tuple[float, Source, str]:
    from blackwell_decide.perf.ingest import load_dataset

    for m in load_dataset(TRTLLM_DATASET):
        if (m.gpu, m.weights, m.isl, m.osl) == (gpu, weights, isl, osl) and m.output_tok_s_per_gpu and m.source:
            return m.output_tok_s_per_gpu, m.source, m.ids[0] if m.ids else f"{TRTLLM_DATASET}:{m.row}"
    raise UsageError(f"no {gpu} {weights} {isl}/{osl} row in the shipped {TRTLLM_DATASET} data set")


def b200_vs_h100_estimates(
    catalog: Catalog, conventions: Conventions | None = None, tok_s_per_user: float = 50.0
) -> tuple[RatioEstimate, ...]:
    """The article's three paths (InferenceMAX, MLPerf, first principles) plus the shipped
    measurements, as B200 NVFP4 over H100 FP8 ratios for Llama 70B."""
    h100, h200 = catalog.accelerators.get("h100-sxm"), catalog.accelerators.get("h200-sxm")
    to_h100 = bandwidth_restatement(h200, h100)
    imx = get_record("inferencemax-v1-b200-vs-h200-llama70b-50tps")
    sweep = _sweep_estimate(tok_s_per_user, to_h100)
    return (
        *decode_floor_estimates(catalog, conventions),
        _from_ratio_record(imx, "InferenceMAX v1 (as quoted)", to_h100),
        *(_mlperf_estimate(scenario) for scenario in ("server", "offline")),
        *((sweep,) if sweep else ()),
        _trtllm_estimate(),
    )


def decode_floor_estimates(
    catalog: Catalog, conventions: Conventions | None = None, baseline: str = "h100-sxm"
) -> list[RatioEstimate]:
    """The batch-1 decode-floor speed-up of B200 NVFP4 over ``baseline`` FP8, on the physics
    conventions (or ``conventions``) and on the article's."""
    from blackwell_decide.resolve import resolve_deployment

    out: list[RatioEstimate] = []
    for label, conv in (
        ("first principles, decode floor (TP=1 on both)", conventions or Conventions()),
        ("first principles, decode floor (TP=1 on both, article conventions)", Conventions.article()),
    ):
        a = compute_bounds(
            resolve_deployment(model="llama-3.3-70b", gpu=baseline, weights="fp8", catalog=catalog), conv
        )
        b = compute_bounds(
            resolve_deployment(model="llama-3.3-70b", gpu="b200", weights="nvfp4", catalog=catalog), conv
        )
        s = speedup(a, b)
        out.append(
            RatioEstimate(
                label=label,
                metric="batch-1 decode floor",
                value=s.value,
                baseline=baseline,
                sources=(DERIVED,),
                notes=(" × ".join(f"{t.name} {t.value:.2f}" for t in s.terms), *conv.describe()[:1]),
            )
        )
    return out


def _mlperf_estimate(scenario: str) -> RatioEstimate:
    b200 = get_record(f"mlperf-v4.1-b200x1-llama2-70b-{scenario}")
    h100_rec = get_record(f"mlperf-v4.1-h100x8-llama2-70b-{scenario}")
    return RatioEstimate(
        label=f"MLPerf v4.1 {scenario}",
        metric=f"MLPerf {scenario}, output tokens/s per GPU",
        value=b200.per_gpu_value / h100_rec.per_gpu_value,
        baseline="h100-sxm",
        sources=(b200.source, h100_rec.source),
        evidence_ids=(b200.id, h100_rec.id),
        token_basis=TokenBasis.OUTPUT,
        notes=(
            f"{b200.per_gpu_value:,.0f} / ({h100_rec.value:,.0f} / {h100_rec.num_gpus})",
            "Llama 2 70B: same layer shapes as Llama 3.3 70B, smaller vocabulary",
        ),
    )


def _sweep_estimate(tok_s_per_user: float, to_h100: Restatement) -> RatioEstimate | None:
    """B200 over H200 off the shipped sweep at the service level (None when a side is missing)."""
    b200_sweep = _sweep_record("b200", "nvfp4", "trtllm", tok_s_per_user)
    h200_sweep = _sweep_record("h200-sxm", "fp8", "trtllm", tok_s_per_user)
    if not (b200_sweep and h200_sweep):
        return None
    return RatioEstimate(
        label=f"shipped sweep, TensorRT-LLM at {tok_s_per_user:g} tok/s/user",
        metric=f"output tokens/s per GPU at {tok_s_per_user:g} tok/s/user, 1k/1k",
        value=b200_sweep.value / h200_sweep.value,
        baseline="h200-sxm",
        sources=(b200_sweep.source,),
        evidence_ids=(b200_sweep.id, h200_sweep.id),
        token_basis=TokenBasis.OUTPUT,
        restatement=to_h100,
        notes=(
            f"{b200_sweep.value:,.0f} / {h200_sweep.value:,.0f} output tok/s per GPU "
            f"({b200_sweep.notes[0]}; {h200_sweep.notes[0]})",
        ),
    )


def _trtllm_estimate() -> RatioEstimate:
    b200_trt, trt_src, b_id = _trtllm_per_gpu("b200", "nvfp4", 1000, 1000)
    h100_trt, _, h_id = _trtllm_per_gpu("h100", "fp8", 1000, 1000)
    return RatioEstimate(
        label="TensorRT-LLM perf overview, 1k/1k max throughput",
        metric="offline maximum output tokens/s per GPU, 1000/1000",
        value=b200_trt / h100_trt,
        baseline="h100-sxm",
        sources=(trt_src,),
        evidence_ids=(b_id, h_id),
        token_basis=TokenBasis.OUTPUT,
        notes=(f"{b200_trt:,.0f} (B200 TP1) / {h100_trt:,.1f} (H100 TP2, per GPU)",),
    )


def _from_ratio_record(record: EvidenceRecord, label: str, restatement: Restatement) -> RatioEstimate:
    return RatioEstimate(
        label=label,
        metric=f"per-GPU throughput at {record.scenario}",
        value=record.value,
        baseline=record.baseline_gpu or "",
        sources=(record.source,),
        evidence_ids=(record.id,),
        token_basis=record.token_basis,
        restatement=restatement,
        notes=record.notes,
    )


def _sweep_record(gpu: str, weights: str, engine: str, tok_s_per_user: float) -> EvidenceRecord | None:
    wanted = f"sweep-{gpu}-{weights}-{engine}-at-{tok_s_per_user:g}tps"
    return next((r for r in measured_records(tok_s_per_user) if r.id == wanted), None)


def article_triangulation(catalog: Catalog) -> Triangulation:
    """B200 NVFP4 over H100 FP8 (Llama 70B) from every path, on the H100 baseline."""
    return triangulate("b200", "h100-sxm", b200_vs_h100_estimates(catalog))
